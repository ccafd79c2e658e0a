import http from 'node:http';
import { fixedClock } from '../../src/lib/clock';
import type { SandboxCard, SandboxMerchant } from '../../src/sandbox/api-cards';
import { seededRandom } from '../../src/sandbox/api-faults';
import { checkMenu } from '../../src/sandbox/api-menu-rules';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';

const T0 = Date.parse('2026-03-01T08:00:00+08:00');

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  return (await res.json()) as Record<string, unknown>;
}
async function postRaw(url: string, body: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  return (await res.json()) as Record<string, unknown>;
}

describe('startApiSandbox', () => {
  let sandbox: ApiSandbox;
  afterEach(async () => {
    await sandbox?.close();
  });

  const tokenUrl = (q: Record<string, string>) => `${sandbox.url}/cgi-bin/token?${new URLSearchParams(q)}`;
  const goodQuery = () => ({ grant_type: 'client_credential', appid: sandbox.credentials.appId, secret: sandbox.credentials.appSecret });
  async function token(): Promise<string> {
    return (await getJson(tokenUrl(goodQuery()))).access_token as string;
  }

  it('should listen on loopback only', async () => {
    await expect(startApiSandbox({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
    sandbox = await startApiSandbox();
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('should check the token request as WeChat does', async () => {
    sandbox = await startApiSandbox({ appId: 'wx1234567890abcdef', appSecret: 'the-secret-000000' });
    const cases: [Record<string, string>, number][] = [
      [{ ...goodQuery(), grant_type: 'password' }, 40002],
      [{ grant_type: 'client_credential', secret: 'x' }, 41002],
      [{ grant_type: 'client_credential', appid: 'wx1234567890abcdef' }, 41004],
      [{ ...goodQuery(), appid: 'wx0000000000000000' }, 40013],
      [{ ...goodQuery(), secret: 'wrong' }, 40125],
    ];
    for (const [q, errcode] of cases) {
      const body = await getJson(tokenUrl(q));
      expect(body.errcode).toBe(errcode);
      expect(String(body.errmsg)).toMatch(/ rid: /);
    }
    const ok = await getJson(tokenUrl(goodQuery()));
    expect(ok).toEqual({ access_token: expect.any(String), expires_in: 7200 });
    expect(sandbox.tokenFetches).toBe(1);
    const post = await postRaw(tokenUrl(goodQuery()), '{}');
    expect(post.errcode).toBe(43001);
  });

  it('should answer 40164 to a caller outside the IP whitelist', async () => {
    sandbox = await startApiSandbox({ ipWhitelist: ['198.51.100.1'] });
    const body = await getJson(tokenUrl(goodQuery()));
    expect(body.errcode).toBe(40164);
    expect(body.errmsg).toMatch(/invalid ip 127\.0\.0\.1 .*not in whitelist/);
  });

  it('should keep the previous token valid for the overlap window only', async () => {
    const clock = fixedClock(T0);
    sandbox = await startApiSandbox({ clock, overlapSeconds: 300 });
    const first = await token();
    const second = await token();
    expect(sandbox.isTokenValid(first)).toBe(true);
    clock.advance(299 * 1000);
    expect(sandbox.isTokenValid(first)).toBe(true);
    clock.advance(2000);
    expect(sandbox.isTokenValid(first)).toBe(false);
    expect(sandbox.isTokenValid(second)).toBe(true);
    const res = await getJson(`${sandbox.url}/cgi-bin/menu/get?access_token=${first}`);
    expect(res.errcode).toBe(40001);
    clock.advance(7200 * 1000);
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get?access_token=${second}`)).errcode).toBe(42001);
  });

  it('should tell missing, malformed, unknown and expired tokens apart', async () => {
    sandbox = await startApiSandbox();
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get`)).errcode).toBe(41001);
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get?access_token=bad!`)).errcode).toBe(40014);
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get?access_token=${'a'.repeat(64)}`)).errcode).toBe(40001);
    const t = await token();
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get?access_token=${t}`)).errcode).toBe(46003);
    sandbox.expireTokens();
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get?access_token=${t}`)).errcode).toBe(42001);
  });

  it('should hand out the same stable token until 5 minutes before expiry, and a new one on force_refresh', async () => {
    const clock = fixedClock(T0);
    sandbox = await startApiSandbox({ clock });
    const stable = (force = false) =>
      postRaw(
        `${sandbox.url}/cgi-bin/stable_token`,
        JSON.stringify({ grant_type: 'client_credential', appid: sandbox.credentials.appId, secret: sandbox.credentials.appSecret, force_refresh: force }),
      );
    const a = await stable();
    const b = await stable();
    expect(b.access_token).toBe(a.access_token);
    clock.advance((7200 - 299) * 1000);
    const c = await stable();
    expect(c.access_token).not.toBe(a.access_token);
    expect(sandbox.isTokenValid(a.access_token as string)).toBe(true); // the old one lives out its own expiry
    const d = await stable(true);
    expect(d.access_token).not.toBe(c.access_token);
    expect(sandbox.isTokenValid(c.access_token as string)).toBe(false);
    expect((await stable(true)).errcode).toBe(45011); // forced refreshes are ≥ 30 s apart
  });

  it('should reject \\u escapes of non-ASCII text with 40033 and bad JSON with 47001', async () => {
    sandbox = await startApiSandbox();
    sandbox.touch('o_user');
    const t = await token();
    const url = `${sandbox.url}/cgi-bin/message/custom/send?access_token=${t}`;
    const escaped = JSON.stringify({ touser: 'o_user', msgtype: 'text', text: { content: '你好' } }).replace('你好', '\\u4f60\\u597d');
    expect((await postRaw(url, escaped)).errcode).toBe(40033);
    expect((await postRaw(url, '{not json')).errcode).toBe(47001);
    expect((await postRaw(url, '')).errcode).toBe(44002);
    const raw = JSON.stringify({ touser: 'o_user', msgtype: 'text', text: { content: '你好 \\n ok' } });
    expect(await postRaw(url, raw)).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(sandbox.sent.get('o_user')).toHaveLength(1);
  });

  it('should check customer-service messages like WeChat', async () => {
    const clock = fixedClock(T0);
    sandbox = await startApiSandbox({ clock });
    const t = await token();
    const send = (body: unknown) => postRaw(`${sandbox.url}/cgi-bin/message/custom/send?access_token=${t}`, JSON.stringify(body));
    expect((await send({ touser: 'o_x', msgtype: 'text', text: { content: 'a' } })).errcode).toBe(40003);
    sandbox.follow('o_x');
    expect((await send({ touser: 'o_x', msgtype: 'text', text: { content: 'a' } })).errcode).toBe(45015); // never interacted
    sandbox.touch('o_x');
    expect((await send({ touser: 'o_x', msgtype: 'sticker', sticker: {} })).errcode).toBe(40008);
    expect((await send({ touser: 'o_x', msgtype: 'text', text: { content: '' } })).errcode).toBe(44004);
    expect((await send({ touser: 'o_x', msgtype: 'image', image: {} })).errcode).toBe(40007);
    expect((await send({ touser: 'o_x', msgtype: 'wxcard', wxcard: {} })).errcode).toBe(40073);
    expect((await send({ touser: 'o_x', msgtype: 'text', text: { content: 'ok' } })).errcode).toBe(0);
    sandbox.unfollow('o_x');
    expect((await send({ touser: 'o_x', msgtype: 'text', text: { content: 'a' } })).errcode).toBe(45015);
    expect(sandbox.sent.get('o_x')).toHaveLength(1);
  });

  it('should treat unknown openids as fresh followers in playground mode, and keep bounded history', async () => {
    sandbox = await startApiSandbox({ acceptAnyFollower: true, historyLimit: 3 });
    const t = await token();
    const send = (content: string) =>
      postRaw(`${sandbox.url}/cgi-bin/message/custom/send?access_token=${t}`, JSON.stringify({ touser: 'o_sim', msgtype: 'text', text: { content } }));
    for (const c of ['1', '2', '3', '4']) expect((await send(c)).errcode).toBe(0);
    expect(sandbox.follower('o_sim')?.subscribed).toBe(true);
    expect(sandbox.sent.get('o_sim')?.map((m) => (m.body.text as { content: string }).content)).toEqual(['2', '3', '4']);
    expect(sandbox.calls).toHaveLength(3);
  });

  it('should inject faults from a seeded PRNG, queued faults first, only on the chosen paths', async () => {
    sandbox = await startApiSandbox();
    sandbox.faults.set({ errorRate: 1, paths: ['/cgi-bin/menu/get'] });
    expect((await getJson(tokenUrl(goodQuery()))).access_token).toBeDefined();
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/get`)).errcode).toBe(-1);
    sandbox.faults.clear();
    sandbox.faults.failNext('http5xx');
    expect([502, 503]).toContain((await fetch(`${sandbox.url}/cgi-bin/menu/get`)).status);
    sandbox.faults.failNext('reset');
    await expect(fetch(`${sandbox.url}/cgi-bin/menu/get`)).rejects.toThrow();
    expect(sandbox.faults.applied).toMatchObject({ error: 1, http5xx: 1, reset: 1, timeout: 0 });
    expect(() => sandbox.faults.set({ errorRate: 2 })).toThrow(RangeError);
  });

  it('should delay answers by latencyMs (on a fake timer: held at 119 ms, answered at 120 ms)', async () => {
    sandbox = await startApiSandbox();
    sandbox.faults.set({ latencyMs: 120 });
    // Only setTimeout is faked; the HTTP client is node:http (fetch keeps timers of its own).
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setInterval', 'clearInterval', 'Date', 'hrtime', 'performance'] });
    try {
      let answered = false;
      const reply = new Promise<string>((resolve, reject) => {
        http
          .get(`${sandbox.url}/cgi-bin/menu/get`, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      }).then((body) => {
        answered = true;
        return body;
      });
      const turn = () => new Promise((r) => setImmediate(r));
      // The request reaches the sandbox, which arms its latency timer: no event tells when, so a
      // bounded number of event-loop turns.
      for (let i = 0; jest.getTimerCount() === 0; i++) {
        if (i > 100_000) throw new Error('the sandbox never armed its latency timer');
        await turn();
      }
      jest.advanceTimersByTime(119);
      for (let i = 0; i < 50; i++) await turn();
      expect(answered).toBe(false);
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(1);
      expect(jest.getTimerCount()).toBe(0);
      expect(JSON.parse(await reply)).toMatchObject({ errcode: expect.any(Number) });
    } finally {
      jest.useRealTimers();
    }
  });

  it('should close even while a request is held by a timeout fault', async () => {
    sandbox = await startApiSandbox();
    sandbox.faults.failNext('timeout');
    const pending = fetch(`${sandbox.url}/cgi-bin/menu/get`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 30));
    await sandbox.close();
    expect(await pending).toBe('failed');
  });

  it('should answer 404 for unknown paths and 43002 for the wrong method', async () => {
    sandbox = await startApiSandbox();
    expect((await fetch(`${sandbox.url}/cgi-bin/nope`)).status).toBe(404);
    const t = await token();
    expect((await getJson(`${sandbox.url}/cgi-bin/menu/create?access_token=${t}`)).errcode).toBe(43002);
  });
});

describe('seededRandom', () => {
  it('should repeat its sequence for a seed and differ between seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const sa = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(sa);
    expect([c(), c(), c()]).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('the batchget pages of the card sandbox', () => {
  let sandbox: ApiSandbox;
  afterEach(async () => {
    await sandbox?.close();
  });

  it('should page card/batchget by offset + count (1–50) and card/submerchant/batchget by begin_id + limit (1–100), 40053 otherwise', async () => {
    sandbox = await startApiSandbox({ cards: { autoApprove: true } });
    const token = (
      await getJson(
        `${sandbox.url}/cgi-bin/token?${new URLSearchParams({ grant_type: 'client_credential', appid: sandbox.credentials.appId, secret: sandbox.credentials.appSecret })}`,
      )
    ).access_token as string;
    const post = (path: string, body: unknown) => postRaw(`${sandbox.url}${path}?access_token=${token}`, JSON.stringify(body));
    // Seeded straight into the sandbox's state (read-only to its users): the paging is under test, not card/create.
    for (let i = 1; i <= 3; i++) {
      const card = { type: 'GIFT', card: {}, status: 'CARD_STATUS_VERIFY_OK', quantity: 1, totalQuantity: 1 } as const;
      (sandbox.cards.cards as Map<string, SandboxCard>).set(`card${i}`, { cardId: `card${i}`, ...card });
      (sandbox.cards.merchants as Map<number, SandboxMerchant>).set(100000 + i, {
        merchantId: 100000 + i,
        info: { brand_name: `b${i}` },
        status: 'APPROVED',
        createTime: 0,
        updateTime: 0,
      });
    }
    expect(await post('/card/batchget', { offset: 1, count: 1 })).toMatchObject({ errcode: 0, card_id_list: ['card2'], total_num: 3 });
    expect(await post('/card/batchget', { count: 50 })).toMatchObject({ errcode: 0, card_id_list: ['card1', 'card2', 'card3'] });
    for (const count of [undefined, 0, 51, 1.5, 'x'])
      expect(await post('/card/batchget', { count })).toMatchObject({ errcode: 40053, errmsg: expect.stringMatching(/^invalid count rid: /) });
    expect(await post('/card/submerchant/batchget', { begin_id: 100002, limit: 1 })).toMatchObject({
      errcode: 0,
      info_list: [{ merchant_id: 100002 }],
      next_begin_id: 100003,
    });
    expect(await post('/card/submerchant/batchget', { limit: 100 })).toMatchObject({ errcode: 0, next_begin_id: 0 });
    for (const limit of [undefined, 0, 101, 2.5, 'x'])
      expect(await post('/card/submerchant/batchget', { limit })).toMatchObject({ errcode: 40053, errmsg: expect.stringMatching(/^invalid limit rid: /) });
  });
});

describe('checkMenu', () => {
  const click = (name: string, key = 'k') => ({ type: 'click', name, key });
  it.each([
    [{ button: [click('a')] }, undefined],
    [{ button: [{ name: 'm', sub_button: [click('一二三四五六七八九十一二三四五六七八九十')] }] }, undefined], // 60 bytes
    [{ button: [{ name: 'm', sub_button: [click('一二三四五六七八九十一二三四五六七八九十一')] }] }, 40025], // 63 bytes
    [{ button: [click('a', 'k'.repeat(129))] }, 40019],
    [{ button: [{ type: 'view', name: 'v', url: `https://e.com/${'a'.repeat(1011)}` }] }, 40020],
    [{ button: [{ name: 'm', sub_button: [{ name: 's', sub_button: [click('x')] }] }] }, 40022],
    [{ button: [{ name: 'm', sub_button: [{ type: 'scan', name: 's', key: 'k' }] }] }, 40024],
    [{ button: [{ name: 'm', sub_button: [{ type: 'click', name: 's' }] }] }, 40026],
    [{ button: [{ name: 'm', sub_button: [] }] }, 41007],
    [{ button: [{ type: 'media_id', name: 'm' }] }, 40007],
    [{ button: [{ type: 'miniprogram', name: 'm', url: 'https://e.com' }] }, 47001],
    [{ menu: [] }, 40016],
    [[], 47001],
  ])('should judge %j', (menu, errcode) => {
    expect(checkMenu(menu)?.errcode).toBe(errcode);
  });

  it('should count name bytes, not characters (16 bytes at top level)', () => {
    expect(checkMenu({ button: [click('一二三四五')] })).toBeUndefined(); // 15 bytes
    expect(checkMenu({ button: [click('一二三四五六')] })?.errcode).toBe(40018); // 18 bytes
    expect(checkMenu({ button: [click('abcdefghijklmnop')] })).toBeUndefined(); // 16 bytes
    expect(checkMenu({ button: [click('abcdefghijklmnopq')] })?.errcode).toBe(40018);
  });
});
