/**
 * Jump-style one-click activation (跳转型一键激活) over real loopback: the follower submits the form in
 * the API sandbox (no event pushed, as if only the jump happened), their browser opens the bot's
 * public activation page with card_id, encrypt_code, openid and activate_ticket, and the page
 * decrypts the code, checks its owner, reads the form with the ticket and activates the card once.
 */
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import Koa from 'koa';
import { createMemberActivationPage } from '../../src/bot/member-activation-page';
import { cardsFileSchema } from '../../src/cards/card-schema';
import { WeChatApiError } from '../../src/api/errors';
import { createMemoryMemberStore } from '../../src/store/memory-members';
import { createMemoryStore } from '../../src/store/memory';
import { fixture, MEMBER_FORM as FORM, startCardRig, type CardRig } from './helpers';

describe('member card jump-style activation page', () => {
  let rig: CardRig;
  let server: http.Server | undefined;
  afterEach(async () => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    await rig?.close();
  });

  async function pageRig(limit?: { requests: number; windowSeconds: number }) {
    const members = createMemoryMemberStore();
    const memberCards = cardsFileSchema.parse(fixture('member-cards.yaml')).cards;
    rig = await startCardRig((c) => ({ ...c, cards: { 'cafe-member': memberCards['cafe-member']! } }), { members });
    const [synced] = await rig.cards.sync({ only: ['cafe-member'] });
    await rig.sandbox.cards.approveCard(synced!.cardId!);
    // Only the jump: no submit_membercard_user_info reaches the bot.
    rig.sandbox.cards.setWebhook(undefined);
    const app = new Koa();
    app.use(createMemberActivationPage({ cards: rig.cards, counters: createMemoryStore({ clock: rig.clock }).counters, limit }).routes());
    server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cards/member/activate`;
    const open = async (query: string) => {
      const res = await fetch(`${base}?${query}`);
      return { status: res.status, headers: res.headers, body: await res.text() };
    };
    return { members, cardId: synced!.cardId!, open };
  }

  const query = (q: Record<string, string>) => new URLSearchParams(q).toString();

  it('should activate once with the ticket, and answer a reload as activated without a second activation', async () => {
    const { members, cardId, open } = await pageRig();
    const code = await rig.sandbox.cards.claim('oJump0001', cardId);
    const { ticket } = await rig.sandbox.cards.submitMemberForm(code, FORM);
    const q = query({ card_id: cardId, encrypt_code: rig.sandbox.cards.encryptCode(code), openid: 'oJump0001', activate_ticket: ticket });

    const first = await open(q);
    expect(first.status).toBe(200);
    expect(first.body).toContain('会员卡已激活');
    expect(first.body).toContain('00000001');
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    expect(first.body).not.toMatch(/<script/i);
    expect(await members.findByCode(cardId, code)).toMatchObject({ openId: 'oJump0001', membershipNumber: '00000001', activatedAt: expect.any(Number) });

    const [a, b] = await Promise.all([open(q), open(q)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(rig.sandbox.cards.members.get(code)).toMatchObject({ activations: 1, bonus: 100 });
  });

  it('should name a missing required field, refuse an unknown ticket as try-again, and a code that is not the follower’s', async () => {
    const { cardId, open } = await pageRig();
    const code = await rig.sandbox.cards.claim('oJump0002', cardId);
    const { ticket } = await rig.sandbox.cards.submitMemberForm(code, { commonFields: [FORM.commonFields[1]!], customFields: FORM.customFields });
    const encryptCode = rig.sandbox.cards.encryptCode(code);

    const missing = await open(query({ card_id: cardId, encrypt_code: encryptCode, openid: 'oJump0002', activate_ticket: ticket }));
    expect(missing.status).toBe(422);
    expect(missing.body).toContain('手机号');

    const unknownTicket = await open(query({ card_id: cardId, encrypt_code: encryptCode, openid: 'oJump0002', activate_ticket: 'a'.repeat(32) }));
    expect(unknownTicket.status).toBe(502);
    expect(unknownTicket.body).toContain('Try again');

    const otherFollower = await open(query({ card_id: cardId, encrypt_code: encryptCode, openid: 'oSomeoneElse', activate_ticket: ticket }));
    expect(otherFollower.status).toBe(404);
    const unknownCode = await open(query({ card_id: cardId, encrypt_code: 'bm90LWEtY29kZQ==', openid: 'oJump0002', activate_ticket: ticket }));
    expect(unknownCode.status).toBe(404);
    expect(rig.sandbox.cards.members.get(code)?.activations ?? 0).toBe(0);
  });

  it('should refuse hostile parameters with 400 naming the parameter, escaped, and rate-limit per client address', async () => {
    const { cardId, open } = await pageRig({ requests: 6, windowSeconds: 60 });
    const good = { card_id: cardId, encrypt_code: 'abc', openid: 'oJump0003', activate_ticket: 'def' };
    const cases: [string, string][] = [
      [query({ ...good, openid: '' }), 'no openid'],
      [`${query(good)}&card_id=${cardId}`, 'card_id more than once'],
      [query({ ...good, activate_ticket: '<script>alert(1)</script>' }), 'activate_ticket is malformed'],
      [query({ ...good, encrypt_code: 'x'.repeat(513) }), 'encrypt_code is malformed'],
      [query({ ...good, card_id: 'x'.repeat(5000) }), 'too long'],
    ];
    for (const [q, message] of cases) {
      const res = await open(q);
      expect(res.status).toBe(400);
      expect(res.body).toContain(escapeForHtml(message));
      expect(res.body).not.toContain('<script>alert');
    }
    expect((await open(query(good))).status).toBe(404);
    const limited = await open(query(good));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
  });

  it('should have the sandbox decrypt an encrypt_code with WeChat errors for a missing or unknown one', async () => {
    const { cardId } = await pageRig();
    const code = await rig.sandbox.cards.claim('oJump0004', cardId);
    expect(await rig.api.card.codeDecrypt(rig.sandbox.cards.encryptCode(code))).toBe(code);
    await expect(rig.api.card.post('code/decrypt', {})).rejects.toMatchObject({ errcode: 41011 });
    const unknown = await rig.api.card.codeDecrypt('bm90LWEtY29kZQ==').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(WeChatApiError);
    expect(unknown).toMatchObject({ errcode: 40056 });
  });
});

function escapeForHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
