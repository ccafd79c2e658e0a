/**
 * One scenario every member store adapter passes (memory, SQLite, PostgreSQL).
 */
import type { Member, MemberStoreWithNumbers } from '../../src/cards/member-store';

export function member(overrides: Partial<Member> = {}): Member {
  return {
    cardId: 'pMemberCard0001',
    code: '110201201245',
    openId: 'o-member-1',
    membershipNumber: '1',
    fields: { USER_FORM_INFO_FLAG_MOBILE: '13800000000' },
    initialBonus: 100,
    initialBalance: 500,
    ...overrides,
  };
}

export function memberStoreContract(open: () => Promise<{ store: MemberStoreWithNumbers; done(): Promise<void> }>): void {
  let store: MemberStoreWithNumbers;
  let done: () => Promise<void>;
  beforeEach(async () => {
    ({ store, done } = await open());
  });
  afterEach(async () => {
    await done();
  });

  it('should insert a member once per (cardId, code) and find it by code and by openid', async () => {
    expect(await store.upsert(member())).toEqual({ created: true });
    expect(await store.upsert(member({ membershipNumber: '2' }))).toEqual({ created: false });
    expect(await store.findByCode('pMemberCard0001', '110201201245')).toEqual(member());
    expect(await store.findByCode('pMemberCard0001', 'nope')).toBeUndefined();
    await store.upsert(member({ cardId: 'pOther', code: 'c2', membershipNumber: '1' }));
    expect((await store.findByOpenId('o-member-1')).map((m) => m.cardId)).toEqual(['pMemberCard0001', 'pOther']);
    expect((await store.findByOpenId('o-member-1', 'pOther')).map((m) => m.code)).toEqual(['c2']);
    expect(await store.findByOpenId('o-nobody')).toEqual([]);
  });

  it('should refresh the answers of a member not yet activated, and keep its number', async () => {
    await store.upsert(member());
    await store.upsert(member({ membershipNumber: '9', fields: { name: 'B' }, initialBonus: 7 }));
    expect(await store.findByCode('pMemberCard0001', '110201201245')).toMatchObject({ membershipNumber: '1', fields: { name: 'B' }, initialBonus: 7 });
  });

  it('should activate once: markActivated answers false the second time, and an upsert after it changes nothing', async () => {
    await store.upsert(member());
    expect(await store.markActivated('pMemberCard0001', '110201201245', 1_000)).toBe(true);
    expect(await store.markActivated('pMemberCard0001', '110201201245', 2_000)).toBe(false);
    expect(await store.markActivated('pMemberCard0001', 'unknown', 2_000)).toBe(false);
    await store.upsert(member({ fields: { x: 'y' }, activatedAt: 5 }));
    expect(await store.findByCode('pMemberCard0001', '110201201245')).toEqual({ ...member(), activatedAt: 1_000 });
  });

  it('should list in insertion order, by card, with limit and offset', async () => {
    for (let i = 1; i <= 5; i += 1) await store.upsert(member({ code: `c${i}`, cardId: i % 2 ? 'A' : 'B', membershipNumber: String(i) }));
    expect((await store.list({ limit: 10, offset: 0 })).map((m) => m.code)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect((await store.list({ cardId: 'A', limit: 2, offset: 1 })).map((m) => m.code)).toEqual(['c3', 'c5']);
    expect(await store.list({ cardId: 'Z', limit: 2, offset: 0 })).toEqual([]);
  });

  it('should hand out membership numbers 1, 2, 3 per card, never twice, also when asked at once', async () => {
    const many = await Promise.all(Array.from({ length: 20 }, () => store.nextNumber('A')));
    expect([...many].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await store.nextNumber('B')).toBe(1);
    expect(await store.nextNumber('A')).toBe(21);
  });

  it('should keep one row when the same code is upserted at once', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.upsert(member({ membershipNumber: String(i + 1) }))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await store.list({ limit: 10, offset: 0 })).toHaveLength(1);
  });
}
