/**
 * The trace of a follow that pays (docs/architecture.md), read from the stack: the sample bot takes
 * one follow that grants the welcome red packet, then one outbox pass sends it, and the stack is
 * taken where the request's binding is written (the edge), where the handler takes its config
 * snapshot (edge → domain), where the grant is recorded and where the red packet is sent. The
 * frames say which functions, in which files, carried the message there.
 */
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { parseXml } from '../../src/wechat/xml';
import { subscribeXml } from '../helpers/inbound';
import { startSampleBot, type SampleBot } from '../helpers/sample-bot';

/** One frame of `src/`: its function and its file. */
interface Frame {
  fn: string;
  file: string;
}

/** The `src/` frames of the current stack, innermost first (async frames included). */
function srcFrames(): Frame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames: Frame[] = [];
  for (const line of stack.split('\n').slice(2)) {
    const m = /^\s*at (?:async )?(?:(\S+) \()?(.*?):\d+:\d+\)?$/.exec(line);
    if (!m) continue;
    const at = m[2].replace(/\\/g, '/').lastIndexOf('/src/');
    if (at < 0 || m[2].includes('node_modules')) continue;
    frames.push({ fn: (m[1] ?? '<anonymous>').replace(/^Object\./, ''), file: m[2].replace(/\\/g, '/').slice(at + 1) });
  }
  return frames;
}

/** Wraps `obj[name]` so each call first records the stack under `label` (the first call only). */
function stackAt<T extends object, K extends keyof T>(obj: T, name: K, label: string, into: Map<string, Frame[]>): void {
  const original = obj[name] as unknown as (...args: unknown[]) => unknown;
  (obj as Record<K, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    if (!into.has(label)) into.set(label, srcFrames());
    return original.apply(this, args);
  } as T[K];
}

/** The functions of the frames, innermost first. */
const fns = (frames: Frame[] | undefined) => (frames ?? []).map((f) => f.fn);

describe('the trace of a follow that pays', () => {
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));
  const stacks = new Map<string, Frame[]>();
  let sample: SampleBot;

  beforeAll(async () => {
    sample = await startSampleBot({ clock });
    const { bot } = sample;
    stackAt(bot.store.bindings, 'bind', 'binding', stacks);
    stackAt(bot.config, 'current', 'config snapshot', stacks);
    stackAt(bot.ledger, 'recordGrant', 'grant recorded', stacks);
    stackAt(bot.redpack, 'send', 'red packet sent', stacks);
    const res = await sample.post(subscribeXml(undefined, { from: 'oTrace000000000000000000001', createTime: Math.floor(clock.now() / 1000) }));
    expect(parseXml(res.text).Content).toMatch(/red packet/i);
    const pass = await bot.worker.runOnce();
    expect(pass.sent).toBe(1);
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('should have seen every point of the trace', () => {
    expect([...stacks.keys()].sort()).toEqual(['binding', 'config snapshot', 'grant recorded', 'red packet sent']);
  });

  it('should make no call back up into the composition root (src/bot), for the reply or for the send', () => {
    for (const [label, frames] of stacks) expect({ label, bot: frames.filter((f) => f.file.startsWith('src/bot/')) }).toEqual({ label, bot: [] });
  });

  it('should carry the POST through handleErrors, verifySignature, readMessage and respond to the binding, one middleware each', () => {
    const edge = (stacks.get('binding') ?? []).filter((f) => f.file.startsWith('src/wechat/koa/'));
    expect(edge.map((f) => `${f.file} ${f.fn}`)).toEqual([
      'src/wechat/koa/bind-request.ts bindRequestMiddleware',
      'src/wechat/koa/respond.ts byDeadline',
      'src/wechat/koa/respond.ts respondMiddleware',
      'src/wechat/koa/read-message.ts readMessageMiddleware',
      'src/wechat/koa/verify-signature.ts verifySignatureMiddleware',
      'src/wechat/koa/handle-errors.ts handleErrorsMiddleware',
      'src/wechat/koa/access-log.ts accessLogMiddleware', // the app's own, before the webhook
    ]);
  });

  it('should hand the message from dispatch to the router and the handler in one file, behind dedupe and the binding', () => {
    expect(fns(stacks.get('config snapshot'))).toEqual([
      'handleMessage',
      'routeMessage',
      'dispatchMiddleware',
      'claimAndHandle',
      'dedupeMiddleware',
      'bindRequestMiddleware',
    ]);
    const files = new Set((stacks.get('config snapshot') ?? []).map((f) => f.file));
    expect([...files]).toEqual(['src/rules/handle-message.ts', 'src/wechat/koa/dispatch.ts', 'src/wechat/koa/dedupe.ts', 'src/wechat/koa/bind-request.ts']);
  });

  it('should record the grant from the rewards service the handler called, and send from the red-packet sender the worker called', () => {
    expect(fns(stacks.get('grant recorded'))).toEqual(['record', 'grant', 'handleMessage']);
    expect(fns(stacks.get('red packet sent'))).toEqual(['processGrant', 'lane', 'runOnce']);
    expect((stacks.get('red packet sent') ?? []).map((f) => f.file)).toEqual([
      'src/rewards/red-packet-sender.ts',
      'src/rewards/outbox-worker.ts',
      'src/rewards/outbox-worker.ts',
    ]);
  });
});
