/**
 * The control endpoint of a running Pay sandbox: HTTP on 127.0.0.1 only, every request authenticated
 * by a random bearer token (compared in constant time) that the sandbox writes, with its URLs, into
 * `data/sandbox.json` (mode 0600). A missing or wrong token is answered 401 and changes nothing. It is
 * what `npx wechat-bot sandbox payments | receive | refund-unclaimed | faults` talk to.
 *
 * Routes (JSON in, JSON out):
 * - `GET /payments` — every bill: number, openid, amount, times paid, state
 * - `POST /payments/BILLNO/receive` — the follower opens the packet (SENT → RECEIVED); 404 unknown, 409 not SENT
 * - `POST /refund-unclaimed` `{ "olderThanMs": 0 }` — refunds SENT / RFUND_ING packets at once
 * - `GET /faults`, `POST /faults` (merged into the current faults), `DELETE /faults` (all cleared)
 * - `POST /members/activate` `{ "openid", "cardId", "fields": { NAME: VALUE } }` — the follower adds the
 *   member card (or uses `code`) and submits its activation form (`submit_membercard_user_info`
 *   reaches the bot); 404 without the API sandbox, 409 when WeChat's sandbox refuses
 *
 * @example
 * const control = await startSandboxControl({ pay });
 * await fetch(`${control.url}/payments`, { headers: { authorization: `Bearer ${control.token}` } });
 */
import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CardSandbox } from './api-cards';
import { SandboxApiError } from './api-route';
import type { PaySandbox, PaySandboxFaults, SandboxPayment } from './pay-server';
import { PAY_SANDBOX_FIELDS, type PaySandboxEndpoint } from './pay-validate';

const PAY_SANDBOX_ENDPOINTS = Object.keys(PAY_SANDBOX_FIELDS) as PaySandboxEndpoint[];

export interface SandboxControlOptions {
  pay: PaySandbox;
  /** The API sandbox's follower side of cards (member-card activation). */
  cards?: Pick<CardSandbox, 'claim' | 'submitMemberForm'>;
  /** Default: 32 random bytes, base64url. */
  token?: string;
  port?: number;
}

export interface SandboxControl {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

/** One bill as the control endpoint lists it. */
export interface PaymentView {
  billNo: string;
  openId: string;
  amountFen: number;
  timesPaid: number;
  status: SandboxPayment['status'];
  endpoint: SandboxPayment['endpoint'];
  totalNum: number;
  sentAt: string;
}

const MAX_BODY = 16 * 1024;

// === Faults sent as JSON

const RATE_KEYS = [
  'resetRate',
  'http5xxRate',
  'timeoutRate',
  'garbageRate',
  'systemErrorRate',
  'paidShare',
  'badSignatureRate',
  'processingRate',
  'processingFailShare',
] as const;
const FAULT_KEYS = new Set<string>([...RATE_KEYS, 'latencyMs', 'errCode', 'errCodeTimes', 'endpoints']);

/**
 * Checks faults that came from outside (JSON): every key known, rates 0–1, latency 0–60000 ms, an
 * err_code of upper-case letters. Throws a RangeError naming the key, the value and what is allowed.
 *
 * @example checkPayFaults({ systemErrorRate: 0.2 }) // { systemErrorRate: 0.2 }
 */
export function checkPayFaults(input: unknown): PaySandboxFaults {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new RangeError('faults: send a JSON object, e.g. {"systemErrorRate":0.2}');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FAULT_KEYS.has(k)) throw new RangeError(`faults: "${k}" is not a fault; known: ${[...FAULT_KEYS].join(', ')}`);
  const out: PaySandboxFaults = {};
  for (const k of RATE_KEYS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`faults: ${k} ${JSON.stringify(v)} is not a rate: give a number from 0 to 1`);
    out[k] = v;
  }
  if (o.latencyMs !== undefined) {
    if (!Number.isInteger(o.latencyMs) || (o.latencyMs as number) < 0 || (o.latencyMs as number) > 60_000)
      throw new RangeError(`faults: latencyMs ${JSON.stringify(o.latencyMs)} is not a delay: give whole milliseconds from 0 to 60000`);
    out.latencyMs = o.latencyMs as number;
  }
  if (o.errCode !== undefined) {
    if (typeof o.errCode !== 'string' || !/^[A-Z_]{2,32}$/.test(o.errCode))
      throw new RangeError(`faults: errCode ${JSON.stringify(o.errCode)} is not a WeChat Pay err_code: upper-case letters and _, e.g. NOTENOUGH`);
    out.errCode = o.errCode;
  }
  if (o.errCodeTimes !== undefined) {
    if (!Number.isInteger(o.errCodeTimes) || (o.errCodeTimes as number) < 1)
      throw new RangeError(`faults: errCodeTimes ${JSON.stringify(o.errCodeTimes)} is not a count: give a whole number ≥ 1`);
    out.errCodeTimes = o.errCodeTimes as number;
  }
  if (o.endpoints !== undefined) {
    const e = o.endpoints;
    if (!Array.isArray(e) || e.length === 0 || !e.every((x) => (PAY_SANDBOX_ENDPOINTS as readonly unknown[]).includes(x)))
      throw new RangeError(`faults: endpoints must be a list of ${PAY_SANDBOX_ENDPOINTS.join(', ')}`);
    out.endpoints = e as PaySandboxFaults['endpoints'];
  }
  return out;
}

// === Server

/**
 * Starts the control endpoint on 127.0.0.1 (port 0 = any free port).
 *
 * @example const control = await startSandboxControl({ pay }); … await control.close();
 */
export async function startSandboxControl(options: SandboxControlOptions): Promise<SandboxControl> {
  const token = options.token ?? crypto.randomBytes(32).toString('base64url');
  if (token.length < 16) throw new TypeError('startSandboxControl: the token must be at least 16 characters');
  const tokenDigest = digest(token);
  const { pay } = options;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { error: `sandbox control failed: ${err instanceof Error ? err.message : String(err)}` }));
  });

  async function activateMember(res: ServerResponse, body: unknown): Promise<void> {
    const cards = options.cards;
    if (!cards) return reply(res, 404, { error: 'this sandbox has no API sandbox (member cards)' });
    const b = (body ?? {}) as { openid?: unknown; cardId?: unknown; code?: unknown; fields?: unknown };
    const fields = (b.fields ?? {}) as Record<string, unknown>;
    if (typeof b.openid !== 'string' || typeof b.cardId !== 'string' || typeof fields !== 'object' || Array.isArray(fields))
      return reply(res, 400, { error: 'give { "openid": "…", "cardId": "…", "fields": { "NAME": "VALUE" } }' });
    const answers = Object.entries(fields).map(([name, value]) => ({ name, value: String(value) }));
    try {
      const code = typeof b.code === 'string' ? b.code : await cards.claim(b.openid, b.cardId);
      const form = {
        commonFields: answers.filter((a) => a.name.startsWith('USER_FORM_INFO_FLAG_')),
        customFields: answers.filter((a) => !a.name.startsWith('USER_FORM_INFO_FLAG_')),
      };
      const { event } = await cards.submitMemberForm(code, form);
      return reply(res, 200, { code, webhookStatus: event.status ?? null });
    } catch (err) {
      if (err instanceof SandboxApiError) return reply(res, 409, { error: `${err.errcode} ${err.errmsg}` });
      throw err;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized(req.headers.authorization, tokenDigest)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="wechat-bot sandbox"');
      return reply(res, 401, { error: "missing or wrong token: use the token in the data folder's sandbox.json (Authorization: Bearer TOKEN)" });
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method ?? ''} ${url.pathname}`;
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (body instanceof Error) return reply(res, 400, { error: body.message });

    if (route === 'GET /payments') return reply(res, 200, { payments: [...pay.payments.values()].map(viewOf) });
    const receive = /^POST \/payments\/([^/]+)\/receive$/.exec(route);
    if (receive) {
      const billNo = decodeURIComponent(receive[1]);
      const p = pay.payments.get(billNo);
      if (!p) return reply(res, 404, { error: `no red packet with bill number ${billNo} in this sandbox` });
      try {
        pay.receive(billNo);
      } catch (err) {
        return reply(res, 409, { error: (err as Error).message });
      }
      return reply(res, 200, { payment: viewOf(p) });
    }
    if (route === 'POST /members/activate') return activateMember(res, body);
    if (route === 'POST /refund-unclaimed') {
      const olderThanMs = (body as { olderThanMs?: unknown } | undefined)?.olderThanMs ?? 0;
      if (typeof olderThanMs !== 'number' || !Number.isSafeInteger(olderThanMs) || olderThanMs < 0)
        return reply(res, 400, { error: 'olderThanMs must be a whole number of milliseconds ≥ 0' });
      return reply(res, 200, { refunded: pay.refundUnclaimed(olderThanMs) });
    }
    if (route === 'GET /faults') return reply(res, 200, { faults: pay.faults.get() });
    if (route === 'POST /faults') {
      let next: PaySandboxFaults;
      try {
        next = checkPayFaults({ ...pay.faults.get(), ...checkPayFaults(body ?? {}) });
      } catch (err) {
        return reply(res, 400, { error: (err as Error).message });
      }
      pay.faults.set(next);
      return reply(res, 200, { faults: pay.faults.get() });
    }
    if (route === 'DELETE /faults') {
      pay.faults.clear();
      return reply(res, 200, { faults: pay.faults.get() });
    }
    return reply(res, 404, { error: `no route ${route}; see src/sandbox/control-server.ts` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// === Helpers

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time check of `Authorization: Bearer TOKEN` (digests of equal length, so no length leak). */
function authorized(header: string | undefined, tokenDigest: Buffer): boolean {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  return m !== null && crypto.timingSafeEqual(digest(m[1]), tokenDigest);
}

function viewOf(p: SandboxPayment): PaymentView {
  return {
    billNo: p.billNo,
    openId: p.openId,
    amountFen: p.amountFen,
    timesPaid: p.timesPaid,
    status: p.status,
    endpoint: p.endpoint,
    totalNum: p.totalNum,
    sentAt: new Date(p.sentAt).toISOString(),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return resolve(new Error(`body larger than ${MAX_BODY} bytes`));
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(new Error('body is not JSON'));
      }
    });
    req.on('error', () => resolve(new Error('body could not be read')));
  });
}
