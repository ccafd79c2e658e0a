import { buildQrCodeBody, qrcodeShowUrl } from '../../src/api/qrcode';
import { startHarness, type Harness } from './helpers/api-harness';

describe('buildQrCodeBody', () => {
  it.each([
    [
      { scene: 123, expireSeconds: 60 },
      { expire_seconds: 60, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 123 } } },
    ],
    [
      { scene: 'spring', expireSeconds: 86400 },
      { expire_seconds: 86400, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: 'spring' } } },
    ],
    [{ scene: 42 }, { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: 42 } } }],
    [{ scene: 'poster-a' }, { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'poster-a' } } }],
  ])('should build %j', (req, body) => {
    expect(buildQrCodeBody(req)).toEqual(body);
  });

  it.each([
    [{ scene: 'x', expireSeconds: 2_592_001 }, /30 days/],
    [{ scene: 'x', expireSeconds: 0 }, /expireSeconds/],
    [{ scene: 0, expireSeconds: 60 }, /non-zero/],
    [{ scene: 100_001 }, /1 to 100000/],
    [{ scene: '' }, /1–64/],
    [{ scene: 'x'.repeat(65) }, /1–64/],
  ])('should refuse %j', (req, message) => {
    expect(() => buildQrCodeBody(req)).toThrow(message);
  });
});

describe('qrcodeShowUrl', () => {
  it('should URL-encode the ticket', () => {
    expect(qrcodeShowUrl('gQH4+8Do/AAA=')).toBe('https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH4%2B8Do%2FAAA%3D');
  });
});

describe('api.qrcode', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('should create a temporary string-scene code with its show URL', async () => {
    h = await startHarness();
    const qr = await h.api.qrcode.create({ scene: 'spring-campaign', expireSeconds: 604800 });
    expect(qr.actionName).toBe('QR_STR_SCENE');
    expect(qr.expireSeconds).toBe(604800);
    expect(qr.url).toMatch(/^http:\/\/weixin\.qq\.com\/q\//);
    expect(qr.showUrl).toBe(`https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(qr.ticket)}`);
    expect(h.sandbox.qrcodes).toEqual([{ ticket: qr.ticket, actionName: 'QR_STR_SCENE', scene: 'spring-campaign', expireSeconds: 604800 }]);
  });

  it('should create a permanent numeric code without expiry', async () => {
    h = await startHarness();
    const qr = await h.api.qrcode.create({ scene: 7 });
    expect(qr.actionName).toBe('QR_LIMIT_SCENE');
    expect(qr.expireSeconds).toBeUndefined();
    expect(h.sandbox.qrcodes[0]).toEqual({ ticket: qr.ticket, actionName: 'QR_LIMIT_SCENE', scene: 7 });
  });
});
