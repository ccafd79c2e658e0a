/**
 * Batch issuance from a file in the merchant platform's upload format:
 *
 * ```
 * wx0000sandbox0000            ← first line: the wxappid
 * oFollowerOpenId000000001     ← one openid per line …
 * oFollowerOpenId000000002 5.20  ← … optionally followed by an amount in yuan (space or tab)
 * ```
 *
 * At most 3,000 openid lines. Every line is validated first; any error → every error is reported with
 * its line number and nothing is issued. Each line is recorded as a grant whose idempotency key is
 * derived from the file's content hash and the line's openid, so running the same file again (even
 * re-saved with other line endings) issues nothing new.
 *
 * @example
 * const parsed = parseSendFile(text, { expectedAppId, amountRangeFen: { min: 100, max: 20000 } });
 * if (parsed.ok) await sendFile({ rewards, clock }, parsed.file, { campaign: 'spring-bonus' });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../lib/clock';
import { fenToYuan, yuanToFen } from './config-schema';
import type { GrantOutcome } from './rewards-port';
import type { Rewards } from './rewards';

/** At most this many openid lines per file (the merchant platform's limit). */
export const SEND_FILE_MAX_LINES = 3000;

/** The rule id under which batch grants are recorded. */
export const SEND_FILE_RULE_ID = 'send-file';

const APPID = /^wx[0-9a-zA-Z]{14,18}$/;
const OPENID = /^[A-Za-z0-9_-]{6,64}$/;

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
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').replace(/\s+$/, '');
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
    const fields = raw.trim().split(/[ \t]+/).filter((f) => f !== '');
    if (fields.length === 0) return problems.push({ line, message: 'empty line' });
    if (fields.length > 2) return problems.push({ line, message: 'expected "openid" or "openid amount" separated by a space or tab' });
    const [openId, amountText] = fields;
    if (!OPENID.test(openId)) problems.push({ line, message: `"${openId.slice(0, 40)}" is not an openid` });
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

/** The idempotency key of one line: the file's hash and the openid. */
export function sendFileKey(hash: string, openId: string): string {
  return `file:${hash}:${openId}`;
}

/** What {@link sendFile} recorded. */
export interface SendFileReport {
  campaign: string;
  hash: string;
  lines: number;
  /** Newly recorded grants (granted now). */
  granted: number;
  /** Lines recorded by an earlier run of the same file (nothing new issued). */
  alreadyRecorded: number;
  amountFen: number;
  /** Lines refused by a limit (recorded with the reason), or failed. */
  refused: { line: number; openId: string; outcome: GrantOutcome; reason?: string }[];
}

/**
 * Records one grant per line (the outbox worker sends them). Call only with a validated file.
 *
 * @example await sendFile({ rewards, clock }, parsed.file, { campaign: 'spring-bonus' })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export async function sendFile(
  deps: { rewards: Pick<Rewards, 'record'>; clock: Clock },
  file: ParsedSendFile,
  opts: { campaign: string },
): Promise<SendFileReport> {
  const now = deps.clock.now();
  const report: SendFileReport = { campaign: opts.campaign, hash: file.hash, lines: file.lines.length, granted: 0, alreadyRecorded: 0, amountFen: 0, refused: [] };
  for (const l of file.lines) {
    const r = await deps.rewards.record({
      campaign: opts.campaign,
      openId: l.openId,
      dedupeKey: sendFileKey(file.hash, l.openId),
      ruleId: SEND_FILE_RULE_ID,
      now,
      amountFen: l.amountFen,
    });
    if (r.duplicate) report.alreadyRecorded += 1;
    else if (r.outcome === 'granted') {
      report.granted += 1;
      report.amountFen += r.amountFen ?? 0;
    }
    if (r.outcome !== 'granted') report.refused.push({ line: l.line, openId: l.openId, outcome: r.outcome, reason: r.reason });
  }
  return report;
}
