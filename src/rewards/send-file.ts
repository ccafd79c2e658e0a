/**
 * Batch issuance from a file in the merchant platform's upload format:
 *
 * ```
 * wx0000sandbox0000            ← first line: the wxappid
 * oFollowerOpenId000000001     ← one openid per line …
 * oFollowerOpenId000000002 5.20  ← … optionally followed by an amount in yuan (space or tab)
 * ```
 *
 * At most 3,000 openid lines. Every line is validated first (WeChat Pay's own field rules: an openid
 * is at most 32 characters); any error → every error is reported with its line number and nothing is
 * issued. Each line is recorded as a grant keyed by (campaign, batch name, openid) — the batch name
 * defaults to the file's name — so running the batch again, edited, reordered or extended, records
 * only the followers it has not granted yet. A line that a limit refused is tried again by the next
 * run (under `…#2`, `#3`: at most one of a follower's keys is ever granted); a granted line, however
 * its packet ended, never is (a failed packet is reissued on purpose, not by re-running a file).
 * Files recorded before batch names existed were keyed by their content hash: the same file run again
 * is still recognised.
 *
 * @example
 * const parsed = parseSendFile(text, { expectedAppId, amountRangeFen: { min: 100, max: 20000 } });
 * if (parsed.ok) await sendFile({ rewards, clock }, parsed.file, { campaign: 'spring-bonus' });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../lib/clock';
import { fenToYuan, yuanToFen } from '../lib/money';
import type { Ledger, LedgerGrant } from './ledger';
import type { GrantOutcome } from './rewards-port';
import type { RecordRequest, Rewards } from './rewards';

/** At most this many openid lines per file (the merchant platform's limit). */
export const SEND_FILE_MAX_LINES = 3000;

/** The rule id under which batch grants are recorded. */
export const SEND_FILE_RULE_ID = 'send-file';

const APPID = /^wx[0-9a-zA-Z]{14,18}$/;
/** WeChat Pay's `re_openid`: String(32). */
const OPENID = /^[A-Za-z0-9_-]{6,32}$/;
/** A batch name: what the key holds, so it is kept short and plain. */
const BATCH = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** How often a refused line is tried again before the batch gives up on it. */
export const SEND_FILE_MAX_ATTEMPTS = 20;

export interface SendFileLine {
  /** 1-based line number in the file. */
  line: number;
  openId: string;
  /** The line's own amount (fen), when given. */
  amountFen?: number;
}

export interface SendFileProblem {
  line: number;
  message: string;
}

export interface ParsedSendFile {
  appId: string;
  /** sha256 of the normalised content (LF line ends, no BOM, no trailing blanks). */
  hash: string;
  lines: SendFileLine[];
}

/** Thrown by the CLI when a file does not validate; carries every problem. */
export class SendFileError extends Error {
  override readonly name = 'SendFileError';
  constructor(readonly problems: SendFileProblem[]) {
    super(`the file has ${problems.length} error(s); nothing was issued:\n${problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n')}`);
  }
}

/**
 * Parses and validates the whole file; never partial.
 *
 * @example parseSendFile('wx0000sandbox0000\noAbc123456 1.00\n') // → { ok: true, file }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function parseSendFile(
  text: string,
  opts: { expectedAppId?: string; amountRangeFen?: { min: number; max: number }; maxLines?: number } = {},
): { ok: true; file: ParsedSendFile } | { ok: false; problems: SendFileProblem[] } {
  const maxLines = opts.maxLines ?? SEND_FILE_MAX_LINES;
  const normalised = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .replace(/\s+$/, '');
  const rows = normalised === '' ? [] : normalised.split('\n');
  const problems: SendFileProblem[] = [];
  if (rows.length === 0) return { ok: false, problems: [{ line: 1, message: 'the file is empty (first line: the wxappid)' }] };

  const appId = rows[0].trim();
  if (!APPID.test(appId)) problems.push({ line: 1, message: `"${appId.slice(0, 40)}" is not a wxappid (the first line must be the Official Account appid)` });
  else if (opts.expectedAppId && appId !== opts.expectedAppId)
    problems.push({ line: 1, message: `wxappid ${appId} is not this account's appid (${opts.expectedAppId})` });

  const data = rows.slice(1);
  if (data.length === 0) problems.push({ line: 2, message: 'no openid lines' });
  if (data.length > maxLines) problems.push({ line: maxLines + 2, message: `more than ${maxLines} openid lines (${data.length})` });

  const lines: SendFileLine[] = [];
  const seen = new Map<string, number>();
  data.forEach(function checkLine(raw, i) {
    const line = i + 2;
    const fields = raw
      .trim()
      .split(/[ \t]+/)
      .filter((f) => f !== '');
    if (fields.length === 0) return problems.push({ line, message: 'empty line' });
    if (fields.length > 2) return problems.push({ line, message: 'expected "openid" or "openid amount" separated by a space or tab' });
    const [openId, amountText] = fields;
    if (!OPENID.test(openId))
      problems.push({
        line,
        message:
          /^[A-Za-z0-9_-]+$/.test(openId) && openId.length > 32
            ? `"${openId.slice(0, 40)}" is ${openId.length} characters: an openid has at most 32 (WeChat Pay's re_openid)`
            : `"${openId.slice(0, 40)}" is not an openid`,
      });
    const first = seen.get(openId);
    if (first !== undefined) problems.push({ line, message: `openid ${openId} already on line ${first}` });
    else seen.set(openId, line);
    let amountFen: number | undefined;
    if (amountText !== undefined) {
      amountFen = yuanToFen(amountText);
      if (amountFen === undefined || amountFen <= 0) problems.push({ line, message: `"${amountText}" is not an amount in yuan with at most 2 decimals` });
      else if (opts.amountRangeFen && (amountFen < opts.amountRangeFen.min || amountFen > opts.amountRangeFen.max))
        problems.push({
          line,
          message: `${fenToYuan(amountFen)} yuan is outside ${fenToYuan(opts.amountRangeFen.min)}–${fenToYuan(opts.amountRangeFen.max)} yuan`,
        });
    }
    lines.push({ line, openId, ...(amountFen !== undefined ? { amountFen } : {}) });
    return undefined;
  });
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  return { ok: true, file: { appId, hash: createHash('sha256').update(normalised).digest('hex'), lines } };
}

/** The key files were recorded under before batch names: the file's hash and the openid. */
export function sendFileKey(hash: string, openId: string): string {
  return `file:${hash}:${openId}`;
}

/**
 * The idempotency key of one line of a batch: (campaign, batch, openid), and the attempt after a
 * refusal (`#2`, `#3`, …).
 *
 * @example batchKey('spring', 'winners.txt', 'oAbc', 2) // 'batch:spring:winners.txt:oAbc#2'
 */
export function batchKey(campaign: string, batch: string, openId: string, attempt = 1): string {
  return `batch:${campaign}:${batch}:${openId}${attempt > 1 ? `#${attempt}` : ''}`;
}

/**
 * Checks a batch name (default: the file's base name), so the error says how to fix it.
 *
 * @example batchName(undefined, '/tmp/winners 2026.txt') // throws: use --batch
 */
export function batchName(given: string | undefined, file: string): string {
  const name = given ?? file.split(/[\\/]/).pop() ?? '';
  if (!BATCH.test(name))
    throw new Error(
      `batch name "${name.slice(0, 80)}" ${given === undefined ? '(the file name) ' : ''}must be 1–64 letters, digits, . _ or - starting with a letter or digit: name it with --batch NAME`,
    );
  return name;
}

/** What one line comes to, in a run or a dry run. */
export interface SendFileLineResult {
  line: number;
  openId: string;
  outcome: GrantOutcome;
  reason?: string;
  amountFen?: number;
  billNo?: string;
  /** Granted by an earlier run (nothing new). */
  already?: boolean;
}

/** What {@link sendFile} recorded (or, with `dryRun`, would record). */
export interface SendFileReport {
  campaign: string;
  batch: string;
  dryRun: boolean;
  lines: number;
  /** Grants recorded now (or that a real run would record). */
  granted: number;
  /** Their amount, fen. Refused lines never count here. */
  amountFen: number;
  /** Lines granted by an earlier run of the batch (nothing new). */
  alreadyRecorded: number;
  /** Lines refused by a limit (recorded with the reason, and tried again by the next run). */
  refused: SendFileLineResult[];
  results: SendFileLineResult[];
}

/** What {@link sendFile} needs. */
export interface SendFileDeps {
  rewards: Pick<Rewards, 'record' | 'preview'>;
  ledger: Pick<Ledger, 'findByKey'>;
  clock: Clock;
}

/**
 * The key a line is recorded under next, or the earlier grant when the follower was granted by this
 * batch before (or by the same file before batch names).
 */
async function keyFor(
  deps: SendFileDeps,
  file: ParsedSendFile,
  campaign: string,
  batch: string,
  openId: string,
): Promise<{ key: string } | { granted: LedgerGrant } | { exhausted: true }> {
  const legacy = await deps.ledger.findByKey(sendFileKey(file.hash, openId), SEND_FILE_RULE_ID);
  if (legacy?.outcome === 'granted' && legacy.campaign === campaign) return { granted: legacy };
  for (let attempt = 1; attempt <= SEND_FILE_MAX_ATTEMPTS; attempt++) {
    const key = batchKey(campaign, batch, openId, attempt);
    const g = await deps.ledger.findByKey(key, SEND_FILE_RULE_ID);
    if (!g) return { key };
    if (g.outcome === 'granted') return { granted: g };
  }
  return { exhausted: true };
}

/**
 * Records one grant per line not granted yet (the outbox worker sends them), or with `dryRun` says
 * what a real run would record, through the same checks (`rewards.preview`). Call only with a
 * validated file.
 *
 * @example await sendFile({ rewards, ledger, clock }, parsed.file, { campaign: 'spring-bonus', batch: 'winners.txt' })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export async function sendFile(deps: SendFileDeps, file: ParsedSendFile, opts: { campaign: string; batch: string; dryRun?: boolean }): Promise<SendFileReport> {
  const now = deps.clock.now();
  const dryRun = opts.dryRun === true;
  const results: SendFileLineResult[] = [];
  const pending: { index: number; req: RecordRequest }[] = [];
  for (const l of file.lines) {
    const k = await keyFor(deps, file, opts.campaign, opts.batch, l.openId);
    const base = { line: l.line, openId: l.openId };
    if ('granted' in k) {
      results.push({ ...base, outcome: 'granted', amountFen: k.granted.amountFen, billNo: k.granted.billNo ?? undefined, already: true });
      continue;
    }
    if ('exhausted' in k) {
      results.push({ ...base, outcome: 'failed', reason: `refused ${SEND_FILE_MAX_ATTEMPTS} times: see "wechat-bot ledger --grants --campaign ${opts.campaign}"` });
      continue;
    }
    const req: RecordRequest = { campaign: opts.campaign, openId: l.openId, dedupeKey: k.key, ruleId: SEND_FILE_RULE_ID, now, amountFen: l.amountFen };
    pending.push({ index: results.length, req });
    results.push({ ...base, outcome: 'failed' });
  }
  const answers = dryRun ? await deps.rewards.preview(pending.map((p) => p.req)) : [];
  for (const [i, p] of pending.entries()) {
    const r = dryRun ? answers[i]! : await deps.rewards.record(p.req);
    const line = results[p.index]!;
    results[p.index] = {
      line: line.line,
      openId: line.openId,
      outcome: r.outcome,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.outcome === 'granted' ? { amountFen: r.amountFen } : {}),
      ...(r.billNo ? { billNo: r.billNo } : {}),
      ...(r.duplicate ? { already: true } : {}),
    };
  }
  const fresh = results.filter((r) => r.outcome === 'granted' && !r.already);
  return {
    campaign: opts.campaign,
    batch: opts.batch,
    dryRun,
    lines: file.lines.length,
    granted: fresh.length,
    amountFen: fresh.reduce((sum, r) => sum + (r.amountFen ?? 0), 0),
    alreadyRecorded: results.filter((r) => r.outcome === 'granted' && r.already).length,
    refused: results.filter((r) => r.outcome !== 'granted'),
    results,
  };
}
