/**
 * Invariant 7 against the whole bot: a write lock held on its SQLite file by another process (a CLI
 * command, a sqlite3 shell, a backup) never stalls the event loop nor the webhook past its deadline,
 * `/healthz` says "store busy" at once, and the message that arrived meanwhile is handled exactly once
 * after the lock is released — its reply late, through the customer-service API — however often
 * WeChat sends it again.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import type { Bot } from '../../src/bot/create-bot';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { subscribeXml } from '../helpers/inbound';
import { holdSqliteLock } from '../helpers/hold-sqlite-lock';
import { startSampleBot, type SampleBot } from '../helpers/sample-bot';
const DAN = 'oDan000000000000000000000001';
/** The webhook's deadline guard in this test (4.5 s in production), so the suite stays fast. */
const DEADLINE_MS = 300;

/** Resolves once `check()` holds, looking again on a timer (the bot works in the background meanwhile). */
async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describe('the bot while another process holds its SQLite write lock', () => {
  let sample: SampleBot | undefined;
  let bot: Bot;
  let post: SampleBot['post'];
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0)); // outside the quiet hours

  beforeAll(async () => {
    sample = await startSampleBot({ clock, deadlineMs: DEADLINE_MS });
    ({ bot, post } = sample);
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('should answer /healthz and the webhook by the deadline, keep the loop free, and handle the follow once afterwards', async () => {
    const follow = subscribeXml(undefined, { from: DAN, createTime: Math.floor(clock.now() / 1000) });
    const lock = await holdSqliteLock(bot.settings.store.sqlitePath);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      const health = await request(bot.app.callback()).get('/healthz');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ ok: false, store: 'busy' });

      // The lock is still held: the answer comes from the deadline guard, not from the store.
      const first = await post(follow);
      expect(first.status).toBe(200);
      expect(first.text).toBe('success');
      // WeChat sends it again (its answer got lost, say) while the first claim still waits for the lock.
      const retryDuringLock = await post(follow);
      expect(retryDuringLock.text).toBe('success');
      expect(await bot.ledger.listAll()).toEqual([]); // nothing ran yet: no claim, no grant
      expect(bot.sandbox!.api.sent.get(DAN) ?? []).toHaveLength(0);
      const metrics = (await request(bot.app.callback()).get('/metrics')).text;
      // The follow and its copy were both answered by the deadline guard: each waited on the lock at its
      // first store write (the signature binding, before de-duplication).
      expect(metrics).toContain('wechat_requests_total{outcome="deadline"} 2');
    } finally {
      clearInterval(ticker);
      loop.disable();
      await lock.release();
    }
    // Timers kept firing all along; the old busy_timeout=5000 stopped the whole loop for 5 s at a time.
    expect(ticks).toBeGreaterThan(10);
    expect(loop.max).toBeLessThan(1e9);

    // Once the lock is gone, the waiting claim goes through: one grant, and the reply arrives late.
    await eventually(() => (bot.sandbox!.api.sent.get(DAN) ?? []).length > 0);
    const sent = bot.sandbox!.api.sent.get(DAN)!;
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0].body)).toMatch(/red packet/i);
    const grants = (await bot.ledger.listAll()).filter((g) => g.openId === DAN);
    expect(grants).toHaveLength(1);

    // WeChat's next retry is answered from the stored reply: no second run, no second grant.
    const retryAfter = await post(follow);
    expect(retryAfter.text).toBe('success');
    expect((await bot.ledger.listAll()).filter((g) => g.openId === DAN)).toHaveLength(1);
    expect(bot.sandbox!.api.sent.get(DAN)).toHaveLength(1);

    const health = await request(bot.app.callback()).get('/healthz');
    expect(health.status).toBe(200);
  });
});
