/**
 * The sandbox panel's forms, checked (hostile input like any other): who plays the follower and
 * what they do (a text, a menu click, a follow with an optional scene), an order to pay (yuan), a
 * packet's bill number.
 *
 * @example parseSandboxPlay({ kind: 'follow', scene: 'store-1' }) // { ok: true, openid: 'o-console-follower', input: { kind: 'follow', scene: 'store-1' } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import { yuanToFen } from '../lib/money';
import type { FollowerInput } from '../wechat/follower-message';
import { refuse, type PageError } from './page-answers';
import { MAX_ATTACH, MAX_SCENE, MAX_TEST_TEXT } from './rule-test-input';

/** The follower the panel plays unless told otherwise. */
export const SANDBOX_OPENID = 'o-console-follower';
/** The largest order the panel pays (a typo guard, not a WeChat limit). */
export const MAX_SANDBOX_ORDER_FEN = 10_000_000;
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;
const BILL_NO = /^[A-Za-z0-9]{1,32}$/;
const KEY = /^[\x21-\x7e]{1,128}$/;

type Parsed<T> = ({ ok: true } & T) | { ok: false; error: PageError };

function field(b: Record<string, unknown>, name: string): string {
  const v = b[name];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function openidOf(b: Record<string, unknown>): string | undefined {
  const o = field(b, 'openid').trim() || SANDBOX_OPENID;
  return OPENID.test(o) ? o : undefined;
}

/**
 * A follower's action to play.
 *
 * @example parseSandboxPlay({ kind: 'text', text: 'hello', openid: 'o-alice' })
 */
export function parseSandboxPlay(b: Record<string, unknown>): Parsed<{ openid: string; input: FollowerInput }> {
  const openid = openidOf(b);
  if (!openid) return refuse('sandbox.error.openid');
  const kind = field(b, 'kind');
  if (kind === 'text') {
    const text = field(b, 'text');
    if (text.trim() === '' || text.length > MAX_TEST_TEXT) return refuse('sandbox.error.text', { max: MAX_TEST_TEXT });
    return { ok: true, openid, input: { kind, text } };
  }
  if (kind === 'click') {
    const key = field(b, 'key');
    if (!KEY.test(key)) return refuse('sandbox.error.key');
    return { ok: true, openid, input: { kind, key } };
  }
  if (kind === 'follow') {
    const scene = field(b, 'scene').trim();
    if (scene.length > MAX_SCENE) return refuse('sandbox.error.sceneLong', { max: MAX_SCENE });
    return { ok: true, openid, input: scene ? { kind, scene } : { kind } };
  }
  return refuse('sandbox.error.kind');
}

/**
 * An order to pay.
 *
 * @example parseSandboxPay({ amount: '120.00' }) // { ok: true, openid: 'o-console-follower', totalFen: 12000 }
 */
export function parseSandboxPay(b: Record<string, unknown>): Parsed<{ openid: string; totalFen: number; attach?: string }> {
  const openid = openidOf(b);
  if (!openid) return refuse('sandbox.error.openid');
  const totalFen = yuanToFen(field(b, 'amount'));
  if (totalFen === undefined || totalFen <= 0 || totalFen > MAX_SANDBOX_ORDER_FEN) return refuse('sandbox.error.amount');
  const attach = field(b, 'attach');
  if (attach.length > MAX_ATTACH) return refuse('sandbox.error.attachLong', { max: MAX_ATTACH });
  return { ok: true, openid, totalFen, ...(attach ? { attach } : {}) };
}

/**
 * A packet's bill number.
 *
 * @example parseBillNo({ billNo: '1900000109202612040000000001' })
 */
export function parseBillNo(b: Record<string, unknown>): Parsed<{ billNo: string }> {
  const billNo = field(b, 'billNo').trim();
  return BILL_NO.test(billNo) ? { ok: true, billNo } : refuse('sandbox.error.billNo');
}
