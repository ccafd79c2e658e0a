/**
 * The ledger page and its API: the search (filters, paging, Beijing days), the detail with its
 * history and WeChat Pay's answers, the CSV export (BOM, header, Chinese text, CSV-injection
 * escaping, attachment name, audited), 401 without a session and 400 on a bad search.
 */
import request from 'supertest';
import { consoleAudit } from '../../src/console/audit';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { type ConsoleSessionCookies, type ConsoleTestBot, startConsoleTestBot } from './console-bot';
import { CHINESE_REASON, DAY2, FORMULA_REASON, seedLedgerPage, type SeededLedger } from './ledger-seed';

let cb: ConsoleTestBot;
let s: ConsoleSessionCookies;
let seeded: SeededLedger;

beforeAll(async () => {
  cb = await startConsoleTestBot({ clock: fixedClock(DAY2 + 3_600_000) });
  seeded = await seedLedgerPage(cb.bot);
  s = await cb.login();
}, 30_000);
afterAll(async () => cb?.close());

const api = (path: string) => request(cb.app).get(path).set('cookie', s.cookie);

describe('GET /console/api/ledger/grants', () => {
  it('should answer 401 with no data without a session, and the page should redirect', async () => {
    const res = await request(cb.app).get('/console/api/ledger/grants').expect(401);
    expect(res.body).toEqual({ ok: false, message: 'log in first' });
    await request(cb.app).get('/console/api/ledger/export.csv').expect(401);
    await request(cb.app).get(`/console/api/ledger/grants/${seeded.failedId}`).expect(401);
    await request(cb.app).get('/console/ledger').expect(302).expect('location', '/console/login');
  });

  it('should list every grant newest first, amounts in yuan with two decimals, times in Beijing time with the zone', async () => {
    const res = await api('/console/api/ledger/grants').expect(200);
    expect(res.body).toMatchObject({ ok: true, total: 6, page: 1, pages: 1 });
    expect(res.body.grants.map((g: { id: number }) => g.id)).toEqual([...seeded.ids].reverse());
    for (const g of res.body.grants) {
      expect(g.amountYuan).toMatch(/^\d+\.\d{2}$/);
      expect(g.createdAt).toMatch(/^2026-12-0[34] \d{2}:\d{2} \(UTC\+8\)$/);
      expect(g).not.toHaveProperty('payload');
    }
  });

  it('should filter by openid, bill, campaign, state and Beijing days, and page', async () => {
    const ids = (res: request.Response) => res.body.grants.map((g: { id: number }) => g.id);
    expect(ids(await api('/console/api/ledger/grants?openid=oLedgerA0001'))).toEqual([seeded.ids[4], seeded.ids[3], seeded.ids[0]]);
    expect(ids(await api('/console/api/ledger/grants?campaign=spend-packet'))).toEqual([seeded.ids[4], seeded.ids[3]]);
    expect(ids(await api('/console/api/ledger/grants?state=FAILED'))).toEqual([seeded.ids[4], seeded.ids[1]]);
    expect(ids(await api('/console/api/ledger/grants?state=SENT,FAILED&campaign=welcome-packet'))).toEqual([seeded.ids[1], seeded.ids[0]]);
    expect(ids(await api('/console/api/ledger/grants?from=2026-12-03&to=2026-12-03'))).toEqual([seeded.ids[2], seeded.ids[1], seeded.ids[0]]);
    expect(ids(await api('/console/api/ledger/grants?from=2026-12-04'))).toEqual([seeded.ids[5], seeded.ids[4], seeded.ids[3]]);
    const bill = (await cb.bot.ledger.getGrant(seeded.ids[2]!))!.billNo!;
    expect(ids(await api(`/console/api/ledger/grants?bill=${bill}`))).toEqual([seeded.ids[2]]);
    const page2 = await api('/console/api/ledger/grants?size=4&page=2').expect(200);
    expect(page2.body).toMatchObject({ total: 6, pages: 2, page: 2 });
    expect(ids(page2)).toEqual([seeded.ids[1], seeded.ids[0]]);
  });

  it.each([
    ['openid', "openid=' OR 1=1 --", 'openid', 'is not an openid'],
    ['state', 'state=PAID', 'state', 'is not a grant state'],
    ['day', 'from=2026-02-30', 'from', 'is not a day'],
    ['range', 'from=2026-12-04&to=2026-12-03', 'to', 'is before from'],
    ['size', 'size=5000', 'size', 'is not a whole number from 1 to 200'],
    ['unknown field', 'sort=id', 'sort', 'is not a search field'],
    ['repeated field', 'campaign=a&campaign=b', 'campaign', 'is given more than once'],
  ])('should answer 400 naming the field and the fix for a bad %s', async (_name, qs, field, message) => {
    const res = await api(`/console/api/ledger/grants?${qs}`).expect(400);
    expect(res.body.ok).toBe(false);
    expect(res.body.problems).toEqual([expect.objectContaining({ field, message, fix: expect.any(String) })]);
    expect(res.body).not.toHaveProperty('grants');
    await api(`/console/api/ledger/export.csv?${qs}`).expect(400);
    const page = await api(`/console/ledger?${qs}`).expect(400);
    expect(page.text).toContain(message);
  });
});

describe('GET /console/api/ledger/grants/:id', () => {
  it("should give a grant's history with WeChat Pay's answer as stored", async () => {
    const res = await api(`/console/api/ledger/grants/${seeded.failedId}`).expect(200);
    expect(res.body.grant).toMatchObject({ id: seeded.failedId, status: 'FAILED', reason: CHINESE_REASON });
    expect(res.body.fromTimestamps).toBe(false);
    expect(res.body.history.map((h: { type: string }) => h.type)).toEqual(['recorded', 'limits_checked', 'answered', 'settled']);
    expect(res.body.history[2].answer).toEqual({
      call: 'sendredpack',
      outcome: 'failed',
      code: 'SENDNUM_LIMIT',
      message: '该用户今日领取红包个数超过限制',
      detail: null,
      returnCode: 'SUCCESS',
      resultCode: 'FAIL',
    });
    const html = await api(`/console/ledger/grants/${seeded.failedId}`).expect(200);
    expect(html.text).toContain('err_code <code>SENDNUM_LIMIT</code>');
    expect(html.text).toContain('return_code <code>SUCCESS</code> · result_code <code>FAIL</code>');
    expect(html.text).toContain('该用户今日领取红包个数超过限制');
    const zh = await api(`/console/ledger/grants/${seeded.failedId}?lang=zh-CN`).expect(200);
    expect(zh.text).toContain('<th>尝试次数</th>');
    expect(zh.text).toContain('微信支付应答');
  });

  it('should answer 404 for an unknown grant and 400 for a bad id', async () => {
    await api('/console/api/ledger/grants/999999').expect(404);
    const bad = await api('/console/api/ledger/grants/1%20OR%201=1').expect(400);
    expect(bad.body.problems[0]).toMatchObject({ field: 'id', message: 'is not a grant id' });
    await api('/console/ledger/grants/abc').expect(400);
  });
});

describe('GET /console/api/ledger/export.csv', () => {
  /** The CSV body as bytes (supertest would decode text). */
  const csvOf = (path: string) =>
    api(path)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });

  it('should download the filtered rows: UTF-8 with BOM, a header, Chinese text, formulas defused, a dated attachment, audited', async () => {
    const res = await csvOf('/console/api/ledger/export.csv?state=FAILED').expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="ledger-20261204.csv"');
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe(
      '"id","bill_no","campaign","kind","openid","amount_yuan","status","outcome","reason","attempts","created_at","sent_at","settled_at","last_error"',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^"${seeded.failedId}","\\d{28}","welcome-packet","red_packet","oLedgerB0001","\\d+\\.\\d{2}","FAILED"`));
    expect(lines[1]).toContain(`"${CHINESE_REASON}"`);
    expect(lines[1]).toContain('"2026-12-03 10:01 (UTC+8)"');
    expect(lines[2]).toContain(`"'${FORMULA_REASON.replace(/"/g, '""')}"`);
  });

  it('should write an audit record per export', async () => {
    await csvOf('/console/api/ledger/export.csv?campaign=spend-packet').expect(200);
    const records = await consoleAudit({ kv: cb.bot.store.kv, counters: cb.bot.store.counters, log: silentLogger() }).recent(5);
    expect(records[0]).toMatchObject({ action: 'ledger.export', target: 'campaign=spend-packet', detail: { rows: 2 }, session: expect.any(String) });
  });

  it('should export every row once, oldest first, without a filter', async () => {
    const res = await csvOf('/console/api/ledger/export.csv').expect(200);
    const lines = (res.body as Buffer).toString('utf8').trim().split('\r\n');
    expect(lines.slice(1).map((l) => Number(JSON.parse(l.split(',')[0]!)))).toEqual(seeded.ids);
  });
});
