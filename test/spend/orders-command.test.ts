import { Command } from 'commander';
import { register } from '../../src/cli/commands/spend';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { createMemoryOrderStore } from '../../src/store/memory-orders';
import { payStack, v2, v3 } from './helpers';
import request from 'supertest';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

async function run(args: string[], stack: ReturnType<typeof payStack>): Promise<string> {
  const out: string[] = [];
  const program = new Command().exitOverride();
  register(program, { out: (t) => out.push(t), createContext: async () => ({ orders: stack.orders, ledger: stack.ledger, close: async () => undefined }) });
  await program.parseAsync(['node', 'wechat-bot', ...args]);
  return out.join('\n');
}

describe('orders command', () => {
  it('should list orders newest first with what each earned', async () => {
    const s = payStack({ orders: createMemoryOrderStore(), ledger: withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() })) });
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'text/xml' }) =>
      request(s.app.callback()).post('/wechat/pay/notify').set(headers).send(body);
    await post(v2({ transactionId: 'tx-big', totalFen: 30000, openId: 'o-big' }));
    await post(v2({ transactionId: 'tx-small', totalFen: 9999, openId: 'o-small' }));
    const n = v3({ transactionId: 'tx-failed', failed: true, openId: 'o-failed' });
    await post(n.body, n.headers);
    const text = await run(['orders'], s);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^received_at\s+transaction_id\s+openid\s+order_yuan\s+protocol\s+rule\s+earned\s+bill_no$/);
    expect(lines[1]).toMatch(/tx-failed\s+o-failed\s+120\.00\s+v3\s+-\s+nothing \(payment PAYERROR\)/);
    expect(lines[2]).toMatch(/tx-small\s+o-small\s+99\.99\s+v2\s+-\s+nothing \(spend-100: below the lowest tier \(100\.00 yuan\)\)/);
    expect(lines[3]).toMatch(/tx-big\s+o-big\s+300\.00\s+v2\s+spend-100 ≥300\.00\s+30\.00 yuan PENDING\s+\d{28}$/);
  });

  it('should list the spend-triggered grants with their order (--grants, --csv)', async () => {
    const s = payStack();
    await request(s.app.callback())
      .post('/wechat/pay/notify')
      .set('content-type', 'text/xml')
      .send(v2({ transactionId: 'tx-1', totalFen: 15000 }));
    const csv = await run(['orders', '--grants', '--csv'], s);
    const [header, row] = csv.split('\n');
    expect(header).toBe('grant_id,created_at,campaign,openid,amount_yuan,bill_no,status,outcome,transaction_id,order_yuan,rule');
    expect(row).toMatch(/^1,[^,]+,spend-packet,o-payer-0001,10\.00,\d{28},PENDING,granted,tx-1,150\.00,spend-100$/);
  });

  it('should say when there is nothing', async () => {
    expect(await run(['orders'], payStack())).toBe('No orders recorded yet.');
    expect(await run(['orders', '--grants'], payStack())).toBe('No spend-triggered grants yet.');
  });
});
