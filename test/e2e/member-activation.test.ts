/**
 * One-click activation through the whole bot (createBot in sandbox mode, the shipped sample config):
 * the sample member card is synced to the in-process API sandbox, a follower adds it and fills the form,
 * and the signed `submit_membercard_user_info` event is POSTed to /wechat — twice, as WeChat redelivers
 * when it misses the answer. The member is recorded and activated exactly once, and told once.
 */
import request from 'supertest';
import type { CardEventResult } from '../../src/cards/cards';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import type { Stores } from '../../src/store/open-stores';
import { startSampleBot, type SampleBot } from '../helpers/sample-bot';

const FOLLOWER = 'oMemberE2e0000000000000001';
const FORM = {
  commonFields: [
    { name: 'USER_FORM_INFO_FLAG_MOBILE', value: '13800000000' },
    { name: 'USER_FORM_INFO_FLAG_NAME', value: '王小明' },
  ],
  customFields: [],
};

describe('member card activation through the bot pipeline', () => {
  let sample: SampleBot | undefined;
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));

  afterEach(async () => {
    await sample?.close();
  });

  it('should record and activate the member once when the same submit_membercard_user_info arrives twice', async () => {
    sample = await startSampleBot({ clock });
    const { bot, post } = sample;
    const sandbox = bot.sandbox!.api;
    const [synced] = await bot.cards.sync({ only: ['corner-member'] });
    expect(synced).toMatchObject({ name: 'corner-member', action: 'created' });
    const cardId = synced!.cardId!;
    await sandbox.cards.approveCard(cardId);
    sandbox.touch(FOLLOWER);
    const code = await sandbox.cards.claim(FOLLOWER, cardId);
    // No webhook is set (the bot does not listen): the event is kept, and POSTed below like WeChat would.
    const { event } = await sandbox.cards.submitMemberForm(code, FORM);

    const handled = jest.spyOn(bot.cards, 'handleEvent');
    const replies = await Promise.all([post(event.xml), post(event.xml)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    await post(event.xml).expect(200);
    const outcomes = await Promise.all(handled.mock.results.map(async (r) => (await (r.value as Promise<CardEventResult>)).activation));
    expect(outcomes.filter((o) => o?.outcome === 'activated')).toHaveLength(1);

    // createBot opens its stores with openStores (Bot types `store` as the composite part only).
    const members = await (bot.store as Stores).members.findByOpenId(FOLLOWER);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ cardId, code, membershipNumber: '00000001', activatedAt: expect.any(Number) });
    expect(sandbox.cards.members.get(code)).toMatchObject({ membershipNumber: '00000001', activations: 1 });
    expect((sandbox.sent.get(FOLLOWER) ?? []).filter((m) => m.msgtype === 'text')).toHaveLength(1);
  });

  it('should serve the jump-style activation page on the public app and activate once, also on reload', async () => {
    sample = await startSampleBot({ clock });
    const { bot } = sample;
    const sandbox = bot.sandbox!.api;
    const [synced] = await bot.cards.sync({ only: ['corner-member'] });
    const cardId = synced!.cardId!;
    await sandbox.cards.approveCard(cardId);
    const code = await sandbox.cards.claim(FOLLOWER, cardId);
    const { ticket } = await sandbox.cards.submitMemberForm(code, FORM);
    // As WeChat builds the jump URL (outer_str included; ignored).
    const query = new URLSearchParams({ card_id: cardId, encrypt_code: sandbox.cards.encryptCode(code), outer_str: '', openid: FOLLOWER, activate_ticket: ticket });
    const page = () => request(bot.app.callback()).get(`/cards/member/activate?${query.toString()}`);
    const first = await page().expect(200);
    expect(first.text).toContain('00000001');
    expect(first.headers['content-security-policy']).toContain("default-src 'none'");
    await page().expect(200);
    expect(sandbox.cards.members.get(code)).toMatchObject({ membershipNumber: '00000001', activations: 1 });
    await request(bot.app.callback()).get('/cards/member/activate').expect(400);
  });
});
