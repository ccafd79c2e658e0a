import fs from 'node:fs';
import path from 'node:path';
import { buildCustomMessage, replyToCustomMessage, type CustomMessage } from '../../src/api/custom-message';
import { WeChatApiError } from '../../src/api/errors';
import type { ApiClient } from '../../src/api/client';
import { fixedClock } from '../../src/lib/clock';
import type { Reply } from '../../src/reply/reply';
import { caught, startHarness, type Harness } from './helpers/api-harness';

interface Vector {
  id: string;
  expected_json: Record<string, unknown> & { touser: string };
}
const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/vectors/custom-send-json.json'), 'utf8')) as Vector[];
const vector = (id: string) => {
  const v = vectors.find((x) => x.id === id);
  if (!v) throw new Error(`vector ${id} missing from test/fixtures/vectors/custom-send-json.json`);
  return v.expected_json;
};

/** For each vector: the message value and the client call that sends it. */
const CASES: { id: string; message: CustomMessage; kfAccount?: string; call: (api: ApiClient, openId: string) => Promise<void> }[] = [
  { id: 'text', message: { type: 'text', content: 'sfsfdsdf' }, call: (a, o) => a.customMessage.text(o, 'sfsfdsdf') },
  { id: 'image', message: { type: 'image', mediaId: 'MEDIA_ID' }, call: (a, o) => a.customMessage.image(o, 'MEDIA_ID') },
  { id: 'voice', message: { type: 'voice', mediaId: 'MEDIA_ID' }, call: (a, o) => a.customMessage.voice(o, 'MEDIA_ID') },
  {
    id: 'video',
    message: { type: 'video', mediaId: 'MEDIA_ID', thumbMediaId: 'MEDIA_ID', title: 'TITLE', description: 'DESCRIPTION' },
    call: (a, o) => a.customMessage.video(o, { mediaId: 'MEDIA_ID', thumbMediaId: 'MEDIA_ID', title: 'TITLE', description: 'DESCRIPTION' }),
  },
  {
    id: 'music',
    message: { type: 'music', title: 'TITLE', description: 'DESCRIPTION', thumbMediaId: 'MEDIA_ID', musicUrl: 'MUSIC_URL', hqMusicUrl: 'HQ_MUSIC_URL' },
    call: (a, o) => a.customMessage.music(o, { title: 'TITLE', description: 'DESCRIPTION', thumbMediaId: 'MEDIA_ID', musicUrl: 'MUSIC_URL', hqMusicUrl: 'HQ_MUSIC_URL' }),
  },
  {
    id: 'news',
    message: { type: 'news', article: { title: 'Happy Day', description: 'Is Really A Happy Day', url: 'URL', picUrl: 'PIC_URL' } },
    call: (a, o) => a.customMessage.news(o, { title: 'Happy Day', description: 'Is Really A Happy Day', url: 'URL', picUrl: 'PIC_URL' }),
  },
  {
    id: 'miniprogrampage',
    message: { type: 'miniprogrampage', title: 'title', appId: 'appid', pagePath: 'pagepath', thumbMediaId: 'thumb_media_id' },
    call: (a, o) => a.customMessage.miniprogramPage(o, { title: 'title', appId: 'appid', pagePath: 'pagepath', thumbMediaId: 'thumb_media_id' }),
  },
  {
    id: 'msgmenu',
    message: {
      type: 'msgmenu',
      headContent: 'head_content',
      list: [
        { id: '101', content: 'msgmenu1' },
        { id: '102', content: 'msgmenu2' },
      ],
      tailContent: 'tail_content',
    },
    call: (a, o) =>
      a.customMessage.msgmenu(o, {
        headContent: 'head_content',
        list: [
          { id: '101', content: 'msgmenu1' },
          { id: '102', content: 'msgmenu2' },
        ],
        tailContent: 'tail_content',
      }),
  },
  { id: 'mpnewsarticle', message: { type: 'mpnewsarticle', articleId: 'ARTICLE_ID' }, call: (a, o) => a.customMessage.mpnewsArticle(o, 'ARTICLE_ID') },
  { id: 'mpnews', message: { type: 'mpnews', mediaId: 'MEDIA_ID' }, call: (a, o) => a.customMessage.mpnews(o, 'MEDIA_ID') },
  { id: 'wxcard', message: { type: 'wxcard', cardId: '123dsdajkasd231jhksad' }, call: (a, o) => a.customMessage.wxcard(o, '123dsdajkasd231jhksad') },
  {
    id: 'as-kf-account',
    message: { type: 'text', content: 'Hello World' },
    kfAccount: 'test1@kftest',
    call: (a, o) => a.customMessage.text(o, 'Hello World', { kfAccount: 'test1@kftest' }),
  },
];

describe('buildCustomMessage', () => {
  it('should cover every vector', () => {
    expect(CASES.map((c) => c.id).sort()).toEqual(vectors.map((v) => v.id).sort());
  });

  it.each(CASES.map((c) => [c.id, c] as const))('should build the %s body exactly as the vector', (_id, c) => {
    const body = buildCustomMessage('OPENID', c.message, { kfAccount: c.kfAccount });
    expect(JSON.parse(JSON.stringify(body))).toEqual(vector(c.id));
  });

  it('should require an openid', () => {
    expect(() => buildCustomMessage('', { type: 'text', content: 'x' })).toThrow(/openId/);
  });
});

describe('replyToCustomMessage', () => {
  it.each<[Reply, CustomMessage | undefined]>([
    [
      { type: 'text', content: 'hi' },
      { type: 'text', content: 'hi' },
    ],
    [
      { type: 'image', mediaId: 'M' },
      { type: 'image', mediaId: 'M' },
    ],
    [
      { type: 'voice', mediaId: 'M' },
      { type: 'voice', mediaId: 'M' },
    ],
    [
      { type: 'video', mediaId: 'M', title: 'T' },
      { type: 'video', mediaId: 'M', title: 'T', description: undefined },
    ],
    [
      { type: 'music', thumbMediaId: 'TM', musicUrl: 'u' },
      { type: 'music', thumbMediaId: 'TM', musicUrl: 'u', title: undefined, description: undefined, hqMusicUrl: undefined },
    ],
    [
      { type: 'news', articles: [{ title: 'A', url: 'https://a' }, { title: 'B' }] },
      { type: 'news', article: { title: 'A', url: 'https://a' } },
    ],
    [{ type: 'news', articles: [] }, undefined],
    [{ type: 'transfer_customer_service', kfAccount: 'k@k' }, undefined],
    [{ type: 'none' }, undefined],
  ])('should map %j', (reply, expected) => {
    expect(replyToCustomMessage(reply)).toEqual(expected);
  });
});

describe('api.customMessage', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it.each(CASES.map((c) => [c.id, c] as const))('should deliver %s as WeChat expects it', async (_id, c) => {
    h = await startHarness();
    h.sandbox.touch('OPENID');
    await c.call(h.api, 'OPENID');
    const sent = h.sandbox.sent.get('OPENID') ?? [];
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toEqual(vector(c.id));
  });

  it('should deliver a late reply through sendReply and skip transfer/none', async () => {
    h = await startHarness();
    h.sandbox.touch('o_late');
    await expect(h.api.customMessage.sendReply('o_late', { type: 'text', content: '稍等，结果来了' })).resolves.toBe(true);
    await expect(h.api.customMessage.sendReply('o_late', { type: 'news', articles: [{ title: '活动', url: 'https://e.example/a' }] })).resolves.toBe(true);
    await expect(h.api.customMessage.sendReply('o_late', { type: 'none' })).resolves.toBe(false);
    await expect(h.api.customMessage.sendReply('o_late', { type: 'transfer_customer_service' })).resolves.toBe(false);
    const sent = h.sandbox.sent.get('o_late') ?? [];
    expect(sent.map((s) => s.body)).toEqual([
      { touser: 'o_late', msgtype: 'text', text: { content: '稍等，结果来了' } },
      { touser: 'o_late', msgtype: 'news', news: { articles: [{ title: '活动', url: 'https://e.example/a' }] } },
    ]);
  });

  it('should surface 45015 with a hint when the follower has not interacted for 48 hours', async () => {
    const clock = fixedClock(Date.parse('2026-03-01T08:00:00+08:00'));
    h = await startHarness({ clock });
    h.sandbox.touch('o_quiet');
    clock.advance(48 * 3600 * 1000);
    await h.api.customMessage.text('o_quiet', 'still inside the window');
    clock.advance(1000);
    const err = (await caught(() => h.api.customMessage.text('o_quiet', 'too late'))) as WeChatApiError;
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err.errcode).toBe(45015);
    expect(err.endpoint).toBe('/cgi-bin/message/custom/send');
    expect(err.hint).toMatch(/48 hours/);
    expect(h.sandbox.sent.get('o_quiet')).toHaveLength(1);
  });

  it('should surface 40003 for an openid that is not a follower, and 45008 for several articles', async () => {
    h = await startHarness();
    expect(((await caught(() => h.api.customMessage.text('o_stranger', 'x'))) as WeChatApiError).errcode).toBe(40003);
    h.sandbox.touch('o_user');
    const body = { touser: 'o_user', msgtype: 'news', news: { articles: [{ title: 'a' }, { title: 'b' }] } };
    const err = (await caught(() => h.api.request('POST', '/cgi-bin/message/custom/send', { body }))) as WeChatApiError;
    expect(err.errcode).toBe(45008);
  });

  it('should show and hide the typing indicator', async () => {
    h = await startHarness();
    h.sandbox.touch('o_user');
    await h.api.customMessage.typing('o_user');
    await h.api.customMessage.typing('o_user', false);
    expect(h.sandbox.typing).toEqual([
      { openId: 'o_user', command: 'Typing' },
      { openId: 'o_user', command: 'CancelTyping' },
    ]);
  });
});
