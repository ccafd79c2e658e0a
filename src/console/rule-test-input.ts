/**
 * The rule tester's form, checked: what the operator typed is hostile input like any other. One of a
 * text, a menu click (a `click` key of the configured menu), a follow (with an optional QR scene) or
 * a paid order (yuan, with its attach and product tag), plus the grant outcome to assume. Lengths are
 * capped so the (already linear-time) rule patterns only ever see short strings.
 *
 * @example parseRuleTestInput({ kind: 'text', text: 'hello' }, ['MENU_HELP']) // { ok: true, input: { kind: 'text', text: 'hello', outcome: 'granted' } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import { yuanToFen } from '../lib/money';
import { GRANT_OUTCOMES, type GrantOutcome } from '../rules/actions';
import { refuse, type PageError } from './page-answers';

/** WeChat's text messages are at most 2048 bytes; a tester text longer than this is refused. */
export const MAX_TEST_TEXT = 600;
/** A QR scene string is at most 64 characters (qrcode/create `scene_str`). */
export const MAX_SCENE = 64;
/** The order's `attach` is at most 127 characters (WeChat Pay). */
export const MAX_ATTACH = 127;
export const MAX_TAG = 32;

export type RuleTestInput =
  | { kind: 'text'; text: string; outcome: GrantOutcome }
  | { kind: 'click'; key: string; outcome: GrantOutcome }
  | { kind: 'follow'; scene?: string; outcome: GrantOutcome }
  | { kind: 'order'; totalFen: number; attach: string; tags: string[] };

export const RULE_TEST_KINDS = ['text', 'click', 'follow', 'order'] as const;

/** The parsed form, or the reason it is refused (shown to the operator, answered 400 by the API). */
export type ParsedRuleTest = { ok: true; input: RuleTestInput } | { ok: false; error: PageError };

function field(q: Record<string, unknown>, name: string): string {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : '';
}

/**
 * Checks the form fields (a query string or a JSON body) against the configured menu's click keys.
 *
 * @example parseRuleTestInput({ kind: 'order', amount: '120.00' }, []) // { ok: true, input: { kind: 'order', totalFen: 12000, … } }
 */
export function parseRuleTestInput(q: Record<string, unknown>, clickKeys: readonly string[]): ParsedRuleTest {
  const kind = field(q, 'kind') || 'text';
  const outcomeText = field(q, 'outcome') || 'granted';
  if (!(GRANT_OUTCOMES as readonly string[]).includes(outcomeText)) return refuse('rules.error.outcome', { list: GRANT_OUTCOMES.join(', ') });
  const outcome = outcomeText as GrantOutcome;
  switch (kind) {
    case 'text': {
      const text = field(q, 'text');
      if (text.trim() === '') return refuse('rules.error.noText');
      if (text.length > MAX_TEST_TEXT) return refuse('rules.error.textLong', { max: MAX_TEST_TEXT });
      return { ok: true, input: { kind, text, outcome } };
    }
    case 'click': {
      const key = field(q, 'key');
      if (!clickKeys.includes(key)) return clickKeys.length ? refuse('rules.error.key', { keys: clickKeys.join(', ') }) : refuse('rules.error.noMenu');
      return { ok: true, input: { kind, key, outcome } };
    }
    case 'follow': {
      const scene = field(q, 'scene').trim();
      if (scene.length > MAX_SCENE) return refuse('rules.error.sceneLong', { max: MAX_SCENE });
      return { ok: true, input: scene ? { kind, scene, outcome } : { kind, outcome } };
    }
    case 'order': {
      const totalFen = yuanToFen(field(q, 'amount'));
      if (totalFen === undefined || totalFen <= 0) return refuse('rules.error.amount');
      const attach = field(q, 'attach');
      const tag = field(q, 'tag').trim();
      if (attach.length > MAX_ATTACH) return refuse('rules.error.attachLong', { max: MAX_ATTACH });
      if (tag.length > MAX_TAG) return refuse('rules.error.tagLong', { max: MAX_TAG });
      return { ok: true, input: { kind, totalFen, attach, tags: tag ? [tag] : [] } };
    }
    default:
      return refuse('rules.error.kind', { kinds: RULE_TEST_KINDS.join(', ') });
  }
}
