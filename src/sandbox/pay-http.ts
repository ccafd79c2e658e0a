/**
 * The HTTPS side of the Pay sandbox: mutual TLS (a client certificate signed by the sandbox CA), the
 * XML body (64 KiB at most), the transport refusals WeChat Pay answers unsigned (XML_ERROR, CA_ERROR
 * when the certificate's CN is not the `mch_id`, SIGN_ERROR), the faults that lose an answer (reset,
 * HTTP 503, timeout, garbage, SYSTEMERROR — a send may have paid before), then the route's business
 * and the answer, signed as `answerSign` says (a bad signature on purpose with `badSignatureRate`).
 * Every request is recorded in `state.calls`; the state file is written before every answer.
 *
 * @example const https = await listenPaySandbox({ state, routes, host: '127.0.0.1', port: 0, ca });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SANDBOX_PAY_CERTS } from '../lib/sandbox-certs';
import { signPayV2, verifyPayV2, type PaySignType } from '../pay/sign';
import { buildXml, parseXml } from '../wechat/xml';
import { payFail } from './pay-answers';
import { sweep } from './pay-money';
import type { PayRoute } from './pay-route';
import { faultsApply, persist, roll, type PayState, type SandboxPayCall } from './pay-state';

const MAX_BODY = 64 * 1024;

/** What {@link listenPaySandbox} needs. */
export interface PayHttpOptions {
  state: PayState;
  /** The routes by URL path. */
  routes: ReadonlyMap<string, PayRoute>;
  host: string;
  port: number;
  /** The sandbox CA (PEM) client certificates must chain to. */
  ca: Buffer;
}

/** A listening Pay sandbox server. */
export interface PayHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The XML body's string fields, or undefined when it is not XML. */
function parseFields(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = parseXml(text);
  } catch {
    return undefined;
  }
  const f: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') f[k] = v;
  return f;
}

/** Which fault loses this answer, if any (drawn in the documented order). */
function lostAnswer(state: PayState): 'RESET' | 'HTTP_503' | 'TIMEOUT' | 'GARBAGE' | 'SYSTEMERROR' | undefined {
  const { faults } = state;
  if (roll(state, faults.resetRate)) return 'RESET';
  if (roll(state, faults.http5xxRate)) return 'HTTP_503';
  if (roll(state, faults.timeoutRate)) return 'TIMEOUT';
  if (roll(state, faults.garbageRate)) return 'GARBAGE';
  if (roll(state, faults.systemErrorRate)) return 'SYSTEMERROR';
  return undefined;
}

/**
 * Starts the server on loopback; resolves once it listens.
 *
 * @example const { port, close } = await listenPaySandbox({ state, routes, host: '127.0.0.1', port: 0, ca });
 */
export async function listenPaySandbox(options: PayHttpOptions): Promise<PayHttpServer> {
  const { state, routes, ca } = options;
  const { mchId, key, answerSign, log } = state.config;
  const hanging = new Set<Socket>();

  function send(res: ServerResponse, fields: Record<string, string>, signed: boolean, opts: { hblist?: string; corrupt?: boolean; signType?: PaySignType } = {}): void {
    persist(state);
    const out = { ...fields };
    if (signed) {
      out.sign = signPayV2(out, key, opts.signType ?? 'MD5'); // answers are signed like the request
      if (opts.corrupt) out.sign = (out.sign[0] === 'A' ? 'B' : 'A') + out.sign.slice(1);
    }
    let xml = buildXml(out);
    if (opts.hblist !== undefined) xml = xml.replace(/<\/xml>$/, `<hblist>${opts.hblist}</hblist></xml>`);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(xml);
  }

  /** Answers a fault that loses the answer; the money may have left first (`paidShare`). */
  function loseAnswer(
    lost: NonNullable<ReturnType<typeof lostAnswer>>,
    route: PayRoute,
    f: Record<string, string>,
    call: SandboxPayCall,
    socket: TLSSocket,
    res: ServerResponse,
    signType: PaySignType,
  ): void {
    if (route.kind === 'send' && state.random() < (state.faults.paidShare ?? 0.5)) {
      call.paid = route.handle(state, f, { processing: false }).paid === true;
    }
    if (lost !== 'SYSTEMERROR') persist(state); // send() persists the SYSTEMERROR answer
    call.outcome = lost;
    if (lost === 'RESET') {
      socket.destroy();
    } else if (lost === 'HTTP_503') {
      res.writeHead(503, { 'Content-Type': 'text/html' }).end('<html><body>503 Service Unavailable</body></html>');
    } else if (lost === 'TIMEOUT') {
      hanging.add(socket);
      socket.once('close', () => hanging.delete(socket));
    } else if (lost === 'GARBAGE') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>系统繁忙</body></html>');
    } else {
      send(res, payFail('SYSTEMERROR', '系统繁忙,请稍后再试.', { mch_billno: f.mch_billno, mch_id: mchId }), answerSign !== 'none', { signType });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const certCn = String(socket.getPeerCertificate()?.subject?.CN ?? '');
    const route = routes.get((req.url ?? '').split('?')[0]);
    if (req.method !== 'POST' || route === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const text = await readBody(req);
    const call: SandboxPayCall = { endpoint: route.endpoint, fields: {}, certCn, at: state.config.clock.now(), outcome: '', paid: false };
    state.calls.push(call);
    if (state.faults.latencyMs) await delay(state.faults.latencyMs);
    sweep(state);

    const f = parseFields(text);
    if (f === undefined) {
      call.outcome = 'XML_ERROR';
      send(res, { return_code: 'FAIL', return_msg: '输入数据不是有效的XML', result_code: 'FAIL', err_code: 'XML_ERROR', err_code_des: 'body is not XML' }, false);
      return;
    }
    call.fields = { ...f };

    // Transport-level refusals (unsigned answers, as WeChat Pay gives them).
    if (f.mch_id !== mchId || certCn !== mchId) {
      call.outcome = 'CA_ERROR';
      send(
        res,
        {
          return_code: 'FAIL',
          return_msg: '证书与商户号不匹配',
          result_code: 'FAIL',
          err_code: 'CA_ERROR',
          err_code_des: `the client certificate (CN ${certCn}) is not the certificate of mch_id ${f.mch_id ?? ''}`,
        },
        false,
      );
      return;
    }
    const signType: PaySignType | undefined = f.sign_type === undefined ? 'MD5' : f.sign_type === 'MD5' || f.sign_type === 'HMAC-SHA256' ? f.sign_type : undefined;
    if (signType === undefined || !verifyPayV2(f, key, signType)) {
      call.outcome = 'SIGN_ERROR';
      send(res, { return_code: 'FAIL', return_msg: '签名错误', result_code: 'FAIL', err_code: 'SIGN_ERROR', err_code_des: '签名错误' }, false);
      return;
    }

    // Faults that lose the answer; `paid` models "the money left before the answer was lost".
    const rated = faultsApply(state, route.endpoint);
    const lost = rated ? lostAnswer(state) : undefined;
    if (lost !== undefined) {
      loseAnswer(lost, route, f, call, socket, res, signType);
      return;
    }

    if (route.kind === 'query') {
      const { answer, hblist } = route.handle(state, f, { processing: false });
      const corruptQuery = answerSign === 'all' && rated && roll(state, state.faults.badSignatureRate);
      call.outcome = corruptQuery ? 'BAD_SIGNATURE' : answer.err_code;
      send(res, answer, answerSign === 'all', { hblist, corrupt: corruptQuery, signType });
      return;
    }
    const corrupt = rated && roll(state, state.faults.badSignatureRate);
    const processing = !corrupt && rated && roll(state, state.faults.processingRate);
    const { answer, paid } = route.handle(state, f, { processing });
    call.paid = paid === true;
    call.outcome = corrupt ? 'BAD_SIGNATURE' : answer.err_code;
    send(res, answer, answerSign !== 'none' || corrupt, { corrupt, signType });
  }

  const server = https.createServer(
    {
      key: fs.readFileSync(SANDBOX_PAY_CERTS.serverKey),
      cert: fs.readFileSync(SANDBOX_PAY_CERTS.serverCert),
      ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log?.error({ err }, 'sandbox pay handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    },
  );
  server.on('tlsClientError', (err) => log?.debug({ code: (err as NodeJS.ErrnoException).code }, 'sandbox pay refused a TLS client'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of hanging) s.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
