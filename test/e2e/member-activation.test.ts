/**
 * One-click activation through the whole bot (createBot in sandbox mode, the shipped sample config):
 * the sample member card is synced to the in-process API sandbox, a follower adds it and fills the form,
 * and the signed `submit_membercard_user_info` event is POSTed to /wechat — twice, as WeChat redelivers
 * when it misses the answer. The member is recorded and activated exactly once, and told once.
 */
import type { CardEventResult } from '../../src/cards/cards';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import type { Stores } from '../../src/store/open-stores';
import { startSampleBot, type SampleBot } from '../helpers/sample-bot';

const FOLLOWER = 'oMemberE2e0000000000000001';

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
    const { event } = await sandbox.cards.submitMemberForm(code, {
      commonFields: [
        { name: 'USER_FORM_INFO_FLAG_MOBILE', value: '13800000000' },
        { name: 'USER_FORM_INFO_FLAG_NAME', value: '王小明' },
      ],
      customFields: [],
    });

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
});
