/**
 * One-click activation end to end over real loopback: cards.yaml's member card synced to the API
 * sandbox, a follower adds it and submits the form, the sandbox pushes submit_membercard_user_info to
 * the webhook, and the card service activates it after the answer (membercard/userinfo/get, then
 * membercard/activate) and records the member.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSandboxActivate } from '../../src/cli/commands/sandbox-control';
import { cardsFileSchema } from '../../src/cards/card-schema';
import { startSandboxControl } from '../../src/sandbox/control-server';
import { startPaySandbox } from '../../src/sandbox/pay-server';
import { sandboxInfoFile, writeSandboxInfo } from '../../src/sandbox/sandbox-info';
import { createMemoryMemberStore } from '../../src/store/memory-members';
import { fixture, MEMBER_FORM as FORM, startCardRig, type CardRig } from './helpers';

describe('member card activation (sandbox loop)', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  /** The customer-service texts the follower received. */
  const texts = (openId: string) => (rig.sandbox.sent.get(openId) ?? []).map((m) => (m.body.text as { content: string }).content);

  async function memberRig() {
    const members = createMemoryMemberStore();
    const memberCards = cardsFileSchema.parse(fixture('member-cards.yaml')).cards;
    rig = await startCardRig((c) => ({ ...c, cards: { 'cafe-member': memberCards['cafe-member']! } }), { members });
    const [synced] = await rig.cards.sync({ only: ['cafe-member'] });
    expect(synced).toMatchObject({ name: 'cafe-member', action: 'created' });
    await rig.sandbox.cards.approveCard(synced!.cardId!);
    return { members, cardId: synced!.cardId! };
  }

  it('should activate once with a membership number and the initial points, also when WeChat delivers the event again', async () => {
    const { members, cardId } = await memberRig();
    const code = await rig.sandbox.cards.claim('oMember0001', cardId);
    const { event } = await rig.sandbox.cards.submitMemberForm(code, FORM);
    expect(event.status).toBe(200);
    const r = await rig.handled.at(-1)!.activation;
    expect(r).toMatchObject({ outcome: 'activated', member: { membershipNumber: '00000001', initialBonus: 100 } });
    expect(rig.sandbox.cards.members.get(code)).toMatchObject({ membershipNumber: '00000001', activations: 1, bonus: 100 });
    expect(await members.findByCode(cardId, code)).toMatchObject({ openId: 'oMember0001', fields: { 常去门店: '人民路店' }, activatedAt: expect.any(Number) });

    await rig.sandbox.cards.redeliver(event);
    const again = await rig.handled.at(-1)!.activation;
    expect(again).toMatchObject({ outcome: 'already-active', member: { membershipNumber: '00000001' } });
    expect(rig.sandbox.cards.members.get(code)!.activations).toBe(1);
  });

  it('should tell the follower the outcome with the texts of the card config, naming a missing field by its label', async () => {
    const { cardId } = await memberRig();
    rig.sandbox.touch('oMember0010');
    const code = await rig.sandbox.cards.claim('oMember0010', cardId);
    await rig.sandbox.cards.submitMemberForm(code, { commonFields: [FORM.commonFields[1]!], customFields: FORM.customFields });
    expect(await rig.handled.at(-1)!.activation).toMatchObject({ outcome: 'missing-fields' });
    expect(texts('oMember0010')).toEqual(['会员卡未激活：请填写手机号后重新提交']);

    const { event } = await rig.sandbox.cards.submitMemberForm(code, FORM);
    expect(await rig.handled.at(-1)!.activation).toMatchObject({ outcome: 'activated' });
    await rig.sandbox.cards.redeliver(event);
    expect(await rig.handled.at(-1)!.activation).toMatchObject({ outcome: 'already-active' });
    expect(texts('oMember0010')).toEqual(['会员卡未激活：请填写手机号后重新提交', '会员卡已激活，会员号 00000001，积分 100，余额 0.00 元']);
  });

  it('should send the messages cards.yaml gives, and the failure text when WeChat refuses the activation', async () => {
    const members = createMemoryMemberStore();
    const card = cardsFileSchema.parse(fixture('member-cards.yaml')).cards['cafe-member']!;
    const form = card.member!.activation as Extract<NonNullable<typeof card.member>['activation'], { mode: 'wx_activate' }>;
    const messages = { activated: '欢迎入会，{membership_number}号会员', missingFields: '还差：{fields}', failed: '开卡失败了，稍后再试' };
    const custom = { ...card, member: { ...card.member!, activation: { ...form, messages } } };
    rig = await startCardRig((c) => ({ ...c, cards: { 'cafe-member': custom } }), { members });
    const [synced] = await rig.cards.sync({ only: ['cafe-member'] });
    await rig.sandbox.cards.approveCard(synced!.cardId!);
    rig.sandbox.touch('oMember0011');
    const code = await rig.sandbox.cards.claim('oMember0011', synced!.cardId!);
    await rig.sandbox.cards.submitMemberForm(code, { commonFields: [], customFields: [] });
    await rig.handled.at(-1)!.activation;
    rig.sandbox.faults.failNext('error', { path: '/card/membercard/activate', count: 2 }); // -1 twice: the client's one busy-retry fails too
    await rig.sandbox.cards.submitMemberForm(code, FORM);
    expect(await rig.handled.at(-1)!.activation).toMatchObject({ outcome: 'failed' });
    await rig.sandbox.cards.submitMemberForm(code, FORM);
    expect(await rig.handled.at(-1)!.activation).toMatchObject({ outcome: 'activated' });
    expect(texts('oMember0011')).toEqual(['还差：手机号、姓名、常去门店', '开卡失败了，稍后再试', '欢迎入会，00000001号会员']);
  });

  it('should not activate a form without a required field', async () => {
    const { members, cardId } = await memberRig();
    const code = await rig.sandbox.cards.claim('oMember0002', cardId);
    await rig.sandbox.cards.submitMemberForm(code, { commonFields: FORM.commonFields, customFields: [] });
    expect(await rig.handled.at(-1)!.activation).toEqual({ outcome: 'missing-fields', missing: ['常去门店'] });
    expect(rig.sandbox.cards.members.get(code)!.activations).toBe(0);
    expect(await members.findByCode(cardId, code)).toBeUndefined();
  });

  it("should answer the member endpoints with WeChat's validation errors", async () => {
    const { cardId } = await memberRig();
    const code = await rig.sandbox.cards.claim('oMember0003', cardId);
    const { ticket } = await rig.sandbox.cards.submitMemberForm(code, FORM);
    const post = (path: string, body: Record<string, unknown>) =>
      rig.api.card.post(path, body).then(
        () => 0,
        (e: { errcode?: number }) => e.errcode,
      );
    expect(await post('membercard/activatetempinfo/get', {})).toBe(41011);
    expect(await post('membercard/activatetempinfo/get', { activate_ticket: 'nope' })).toBe(40097);
    await expect(rig.api.card.post('membercard/activatetempinfo/get', { activate_ticket: ticket })).resolves.toMatchObject({
      info: { common_field_list: FORM.commonFields, custom_field_list: FORM.customFields },
    });
    const good = { card_id: cardId, code, membership_number: '00000009' };
    expect(await post('membercard/activate', { card_id: cardId, code })).toBe(41011);
    expect(await post('membercard/activate', { ...good, membership_number: '会员 1' })).toBe(47001);
    expect(await post('membercard/activate', { ...good, init_bonus: -1 })).toBe(47001);
    expect(await post('membercard/activate', { ...good, card_id: 'pNoSuchCard' })).toBe(40073);
    expect(await post('membercard/activate', { ...good, code: '999999999999' })).toBe(40056);
    expect(await post('membercard/userinfo/get', { card_id: cardId, code })).toBe(0);
    expect(await post('membercard/activate', { ...good, init_bonus: 5, init_balance: 100 })).toBe(0);
    await expect(rig.api.card.post('membercard/userinfo/get', { card_id: cardId, code })).resolves.toMatchObject({
      openid: 'oMember0003',
      membership_number: '00000009',
      bonus: 5,
      balance: 100,
      has_active: true,
      user_card_status: 'NORMAL',
    });
    await rig.sandbox.cards.deleteByUser(code);
    expect(await post('membercard/activate', good)).toBe(40127);
  });

  it('should play a follower who activates the card through the control endpoint (simulate --activate)', async () => {
    const { members, cardId } = await memberRig();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-activate-'));
    const pay = await startPaySandbox({});
    const control = await startSandboxControl({ pay, cards: rig.sandbox.cards });
    try {
      writeSandboxInfo(sandboxInfoFile(dataDir), { pid: process.pid, api: rig.sandbox.url, pay: pay.url, control: control.url, token: control.token });
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(`ERR ${l}`) };
      const fields = { USER_FORM_INFO_FLAG_MOBILE: '13800000000', USER_FORM_INFO_FLAG_NAME: '王小明', 常去门店: '人民路店' };
      expect(await runSandboxActivate({ openid: 'oMember0004', cardId, fields }, io, { dataDir })).toBe(0);
      expect(out[0]).toMatch(/^oMember0004 added p\S+ \(code …\d{4}\) and submitted the activation form \(3 fields\)$/);
      expect(await rig.handled.at(-1)!.activation).toMatchObject({ outcome: 'activated', member: { openId: 'oMember0004', membershipNumber: '00000001' } });
      expect(await members.findByOpenId('oMember0004')).toHaveLength(1);
      expect(await runSandboxActivate({ openid: 'oMember0005', cardId: 'pNoSuchCard', fields }, io, { dataDir })).toBe(1);
      expect(out.at(-1)).toBe('ERR sandbox refused (HTTP 409): 40073 invalid card id');
    } finally {
      await control.close();
      await pay.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
