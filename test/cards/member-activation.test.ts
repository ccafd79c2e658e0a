/**
 * One-click activation: the form's required fields, the membership number, membercard/activate with
 * the initial points and balance, and exactly once under repeated and concurrent deliveries.
 */
import type { MemberActivateInput, MemberCardApi, MemberFormAnswers } from '../../src/api/member-card';
import { WeChatApiError } from '../../src/api/errors';
import { activateMember, type MemberActivationDeps, type MemberActivationSettings } from '../../src/cards/member-activation';
import type { MemberStoreWithNumbers } from '../../src/cards/member-store';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { MemoryKeyValueStore } from '../../src/store/memory';
import { createMemoryMemberStore } from '../../src/store/memory-members';

const CARD = 'pMemberCard0001';
const SETTINGS: MemberActivationSettings = {
  requiredFields: ['USER_FORM_INFO_FLAG_MOBILE', '喜欢的运动'],
  initialBonus: 100,
  initialBalanceFen: 500,
  initBonusRecord: '开卡赠送',
};
const GOOD: MemberFormAnswers = {
  commonFields: [
    { name: 'USER_FORM_INFO_FLAG_MOBILE', value: '13800000000' },
    { name: 'USER_FORM_INFO_FLAG_NAME', value: '王小明' },
  ],
  customFields: [{ name: '喜欢的运动', value_list: ['篮球', '足球'] }],
};

/** A stand-in for WeChat's member-card calls; `gate` holds the form read until released. */
function fakeApi(answers: MemberFormAnswers = GOOD) {
  const activated: MemberActivateInput[] = [];
  const tickets: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let gated = false;
  let failNext = false;
  const api: MemberCardApi = {
    async activateTempInfo(ticket) {
      tickets.push(ticket);
      return answers;
    },
    async userInfo() {
      if (gated) await gate;
      return { ...answers, bonus: 0, balance: 0, hasActive: false };
    },
    async activate(input) {
      if (failNext) {
        failNext = false;
        throw new WeChatApiError(-1, 'system error', '/card/membercard/activate');
      }
      activated.push(input);
    },
  };
  return {
    api,
    activated,
    tickets,
    hold: () => (gated = true),
    release: () => release(),
    failNext: () => (failNext = true),
  };
}

function depsOf(api: MemberCardApi, shared: { members: MemberStoreWithNumbers; kv: MemoryKeyValueStore }): MemberActivationDeps {
  return { api, ...shared, clock: fixedClock(1_772_416_800_000), log: silentLogger(), settingsOf: async (cardId) => (cardId === CARD ? SETTINGS : undefined) };
}

function shared() {
  return { members: createMemoryMemberStore(), kv: new MemoryKeyValueStore() };
}

const req = (code = '110201201245') => ({ cardId: CARD, code, openId: 'o-member-1' });

describe('activateMember', () => {
  it('should activate a good form with a membership number and the initial points and balance, and record the member', async () => {
    const s = shared();
    const w = fakeApi();
    const r = await activateMember(depsOf(w.api, s), req());
    expect(r).toMatchObject({ outcome: 'activated', member: { membershipNumber: '00000001', activatedAt: 1_772_416_800_000 } });
    expect(w.activated).toEqual([{ cardId: CARD, code: '110201201245', membershipNumber: '00000001', initBonus: 100, initBonusRecord: '开卡赠送', initBalance: 500 }]);
    expect(await s.members.findByCode(CARD, '110201201245')).toEqual({
      cardId: CARD,
      code: '110201201245',
      openId: 'o-member-1',
      membershipNumber: '00000001',
      activatedAt: 1_772_416_800_000,
      fields: { USER_FORM_INFO_FLAG_MOBILE: '13800000000', USER_FORM_INFO_FLAG_NAME: '王小明', 喜欢的运动: '篮球,足球' },
      initialBonus: 100,
      initialBalance: 500,
    });
  });

  it('should read the answers with the activate_ticket when one is given (activatetempinfo/get)', async () => {
    const w = fakeApi();
    const r = await activateMember(depsOf(w.api, shared()), { ...req(), activateTicket: 'ticket-1' });
    expect(r.outcome).toBe('activated');
    expect(w.tickets).toEqual(['ticket-1']);
  });

  it('should not activate when a required field is missing, and take no number', async () => {
    const s = shared();
    const w = fakeApi({ commonFields: [{ name: 'USER_FORM_INFO_FLAG_MOBILE', value: ' ' }], customFields: [] });
    const r = await activateMember(depsOf(w.api, s), req());
    expect(r).toEqual({ outcome: 'missing-fields', missing: ['USER_FORM_INFO_FLAG_MOBILE', '喜欢的运动'] });
    expect(w.activated).toEqual([]);
    expect(await s.members.findByCode(CARD, '110201201245')).toBeUndefined();
    expect(await s.members.nextNumber(CARD)).toBe(1);
  });

  it('should answer a repeated event already-active, without a second activation or a second number', async () => {
    const s = shared();
    const w = fakeApi();
    await activateMember(depsOf(w.api, s), req());
    const again = await activateMember(depsOf(w.api, s), req());
    expect(again).toMatchObject({ outcome: 'already-active', member: { membershipNumber: '00000001' } });
    expect(w.activated).toHaveLength(1);
    expect(await s.members.nextNumber(CARD)).toBe(2);
  });

  it('should activate once when two deliveries of one code arrive at once on two instances', async () => {
    const s = shared();
    const [a, b] = [fakeApi(), fakeApi()];
    a.hold();
    const first = activateMember(depsOf(a.api, s), req());
    const second = activateMember(depsOf(b.api, s), req());
    await new Promise((r) => setImmediate(r));
    a.release();
    const outcomes = (await Promise.all([first, second])).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['activated', 'already-active']);
    expect([...a.activated, ...b.activated]).toHaveLength(1);
    expect(await s.members.list({ limit: 10, offset: 0 })).toHaveLength(1);
  });

  it('should give distinct membership numbers to two codes activated at once', async () => {
    const s = shared();
    const w = fakeApi();
    const rs = await Promise.all(['c1', 'c2', 'c3'].map((code) => activateMember(depsOf(w.api, s), req(code))));
    const numbers = rs.map((r) => (r.outcome === 'activated' ? r.member.membershipNumber : r.outcome));
    expect([...numbers].sort()).toEqual(['00000001', '00000002', '00000003']);
  });

  it('should keep the number of a failed activation and use it again on the retry', async () => {
    const s = shared();
    const w = fakeApi();
    w.failNext();
    expect(await activateMember(depsOf(w.api, s), req())).toMatchObject({ outcome: 'failed' });
    const pending = await s.members.findByCode(CARD, '110201201245');
    expect(pending).toMatchObject({ membershipNumber: '00000001' });
    expect(pending!.activatedAt).toBeUndefined();
    expect(await activateMember(depsOf(w.api, s), req())).toMatchObject({ outcome: 'activated', member: { membershipNumber: '00000001' } });
    expect(w.activated.map((x) => x.membershipNumber)).toEqual(['00000001']);
  });

  it('should leave a card that is not a one-click member card alone', async () => {
    const w = fakeApi();
    expect(await activateMember(depsOf(w.api, shared()), { ...req(), cardId: 'pCoupon' })).toEqual({ outcome: 'not-a-member-card' });
    expect(w.activated).toEqual([]);
  });
});
