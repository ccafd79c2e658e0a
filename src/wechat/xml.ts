/**
 * The XML codec of the edge: a hardened reader for WeChat's flat `<xml>` packets and the writers
 * (`cdata()`, `buildXml()`) used by replies and the WeChat Pay client. Pure, no Koa.
 *
 * Hostile input is expected: no DOCTYPE, no entities beyond XML's five and numeric character references,
 * a nesting cap, an element cap, and every failure is a `MalformedXmlError` — never another error, never
 * a hang.
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * @see https://www.w3.org/TR/xml/
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

// === Limits

/** Deepest element nesting accepted (WeChat's deepest packet has 5 levels). */
export const XML_MAX_DEPTH = 32;
/** Most elements accepted in one document (a 64 KiB body of `<a/>` would be ~16k). */
export const XML_MAX_ELEMENTS = 4096;
/** Longest excerpt of a parser's own message copied into ours. */
const MAX_REASON_LENGTH = 120;

// === Errors

/**
 * The input is not a well-formed, acceptable XML document. The message says what is wrong (and where,
 * when known) without echoing the input.
 *
 * @example try { parseXml(body) } catch (e) { if (e instanceof MalformedXmlError) ctx.throw(400, 'malformed XML') }
 * @see https://www.w3.org/TR/xml/#sec-well-formed
 */
export class MalformedXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedXmlError';
  }
}

// === Reading

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true, // keeps text and CDATA pieces in order, so whitespace is trimmed only outside CDATA
  ignoreAttributes: true,
  parseTagValue: false, // MsgId is 64-bit: every value stays a string
  parseAttributeValue: false,
  trimValues: true,
  cdataPropName: '#cdata',
  processEntities: false, // decoded below: only the five built-ins and numeric references
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  maxNestedTags: XML_MAX_DEPTH - 1, // the parser counts open ancestors, so this caps depth at XML_MAX_DEPTH
});

/**
 * Parses a WeChat XML packet and returns the children of its root element (normally `<xml>`).
 * Every leaf is a string (whitespace around CDATA trimmed, CDATA content kept verbatim,
 * `<![CDATA[]]>` → `''`), nested elements become objects and repeated elements arrays.
 * Throws `MalformedXmlError` for anything else: DOCTYPE/ENTITY declarations, undefined entities,
 * malformed markup, more than one root, nesting deeper than `XML_MAX_DEPTH`, more than
 * `XML_MAX_ELEMENTS` elements.
 *
 * @example parseXml('<xml><MsgId>6054768590064713728</MsgId></xml>') // { MsgId: '6054768590064713728' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function parseXml(text: string): Record<string, unknown> {
  if (typeof text !== 'string') throw new MalformedXmlError('XML input must be a string');
  return parseFlatPacket(text) ?? parseXmlStrict(text);
}

/**
 * The general path of {@link parseXml}: pre-scan, validation, then the parser. Exported so tests can
 * check that the fast path gives exactly the same result.
 */
export function parseXmlStrict(text: string): Record<string, unknown> {
  if (typeof text !== 'string') throw new MalformedXmlError('XML input must be a string');
  try {
    prescan(text);
    const verdict = XMLValidator.validate(text, { allowBooleanAttributes: false });
    if (verdict !== true) {
      const { msg, line, col } = verdict.err;
      throw new MalformedXmlError(`malformed XML at line ${line}, column ${col}: ${clip(msg)}`);
    }
    if (!text.trimEnd().endsWith('>')) throw new MalformedXmlError('malformed XML: text after the root element');
    const ordered = parser.parse(text) as OrderedNode[];
    const roots = ordered.filter((node) => elementName(node) !== undefined);
    if (roots.length !== 1) {
      throw new MalformedXmlError(roots.length === 0 ? 'XML has no root element' : 'XML has more than one root element');
    }
    const root = roots[0];
    const value = elementValue(root[elementName(root) as string] as OrderedNode[]);
    return typeof value === 'string' ? {} : value;
  } catch (error) {
    if (error instanceof MalformedXmlError) throw error;
    throw new MalformedXmlError(explainParserError(error));
  }
}

// === Fast path for the flat packets WeChat sends

const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** Names starting with `xml` in any case are reserved by XML: the general path decides about them. */
function startsWithXml(name: string): boolean {
  return name.length >= 3 && (name.charCodeAt(0) | 32) === 120 && (name.charCodeAt(1) | 32) === 109 && (name.charCodeAt(2) | 32) === 108;
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
function skipXmlSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10) break;
    i++;
  }
  return i;
}

/**
 * A single linear pass for the shape nearly every packet has — `<xml>` holding distinct leaf elements,
 * each plain text (no `&`) or one CDATA section, whitespace around it — giving exactly what the general
 * path gives. Anything else (nesting, repeated names, entities, comments, declarations, CR, mixed
 * content) returns undefined and goes through the general path, so this never accepts a document
 * the general path would refuse.
 */
function parseFlatPacket(text: string): Record<string, unknown> | undefined {
  // XML turns CR and CRLF into LF: such packets take the general path. (Characters XML forbids do
  // not need to: the general path takes them as they are, and so does this one; a property test holds
  // the two paths to the same result.)
  if (text.includes('\r')) return undefined;
  let i = skipXmlSpace(text, 0);
  if (!text.startsWith('<xml>', i)) return undefined;
  i += 5;
  const out: Record<string, unknown> = {};
  let count = 1;
  for (;;) {
    i = skipXmlSpace(text, i);
    if (text.startsWith('</xml>', i)) return skipXmlSpace(text, i + 6) === text.length ? out : undefined;
    if (text.charCodeAt(i) !== 60 /* < */ || !isNameStart(text.charCodeAt(i + 1))) return undefined;
    let j = i + 2;
    while (j < text.length && isNameChar(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) !== 62 /* > */) return undefined;
    const name = text.slice(i + 1, j);
    if (RESERVED_NAMES.has(name) || startsWithXml(name) || Object.prototype.hasOwnProperty.call(out, name)) return undefined;
    if (++count > XML_MAX_ELEMENTS) return undefined;
    i = j + 1;
    let value: string;
    const k = skipXmlSpace(text, i);
    if (text.startsWith('<![CDATA[', k)) {
      const end = text.indexOf(']]>', k + 9);
      if (end === -1) return undefined;
      value = text.slice(k + 9, end);
      i = skipXmlSpace(text, end + 3);
    } else {
      const lt = text.indexOf('<', i);
      if (lt === -1) return undefined;
      const raw = text.slice(i, lt);
      if (raw.includes('&') || raw.includes(']]>')) return undefined;
      value = raw.trim();
      i = lt;
    }
    // `</name>`, compared in place.
    if (text.charCodeAt(i) !== 60 || text.charCodeAt(i + 1) !== 47 || !text.startsWith(name, i + 2)) return undefined;
    if (text.charCodeAt(i + 2 + name.length) !== 62) return undefined;
    i += name.length + 3;
    out[name] = value;
  }
}

/**
 * Linear pre-scan: rejects DOCTYPE/ENTITY declarations (outside CDATA and comments, where they are
 * only text) and counts start tags against `XML_MAX_ELEMENTS` before the parser does any work.
 */
function prescan(text: string): void {
  let elements = 0;
  let i = text.indexOf('<');
  while (i !== -1) {
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end === -1) throw new MalformedXmlError('malformed XML: unterminated CDATA section');
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) throw new MalformedXmlError('malformed XML: unterminated comment');
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (text.startsWith('<!', i)) {
      const word = text.slice(i + 2, i + 9).toUpperCase();
      if (word.startsWith('DOCTYPE')) throw new MalformedXmlError('DOCTYPE declarations are not accepted');
      if (word.startsWith('ENTITY')) throw new MalformedXmlError('ENTITY declarations are not accepted');
    } else if (i + 1 < text.length && !'/?!'.includes(text[i + 1])) {
      elements += 1;
      if (elements > XML_MAX_ELEMENTS) {
        throw new MalformedXmlError(`XML has more than ${XML_MAX_ELEMENTS} elements`);
      }
    }
    i = text.indexOf('<', i + 1);
  }
}

function elementName(node: OrderedNode): string | undefined {
  for (const key of Object.keys(node)) {
    if (key !== ':@' && key !== '#text' && key !== '#cdata') return key;
  }
  return undefined;
}

/** An element's value: an object when it has child elements, else its text (text and CDATA in order). */
function elementValue(children: OrderedNode[]): Record<string, unknown> | string {
  let object: Record<string, unknown> | undefined;
  let text = '';
  const repeated = new Set<string>();
  for (const child of children) {
    if ('#text' in child) {
      text += decodeEntities(String(child['#text']));
      continue;
    }
    if ('#cdata' in child) {
      for (const piece of child['#cdata'] as OrderedNode[]) text += String(piece['#text'] ?? '');
      continue;
    }
    const name = elementName(child);
    if (name === undefined) continue;
    const value = elementValue(child[name] as OrderedNode[]);
    object ??= {};
    if (!Object.prototype.hasOwnProperty.call(object, name)) {
      object[name] = value;
    } else if (repeated.has(name)) {
      (object[name] as unknown[]).push(value);
    } else {
      object[name] = [object[name], value];
      repeated.add(name);
    }
  }
  // Mixed content (text beside elements) does not occur in WeChat packets; the elements win.
  return object ?? text;
}

const BUILT_IN_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{0,32});/g, (_match, name: string) => {
    if (name in BUILT_IN_ENTITIES) return BUILT_IN_ENTITIES[name];
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (numeric) {
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2], 10);
      if (isXmlChar(code)) return String.fromCodePoint(code);
      throw new MalformedXmlError('malformed XML: character reference to a character XML does not allow');
    }
    throw new MalformedXmlError(`undefined entity &${clip(name, 32)}; (only XML's five are accepted)`);
  });
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function explainParserError(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/nested tags/i.test(message)) return `XML nests deeper than ${XML_MAX_DEPTH} levels`;
  if (/reserved JavaScript keyword|Invalid tag name/i.test(message)) return 'XML uses a reserved element name';
  if (error instanceof RangeError) return 'XML is too deeply structured to parse';
  // The parser's own messages may quote the input; keep only a generic reason.
  return 'malformed XML: the parser rejected the document';
}

function clip(text: string, max = MAX_REASON_LENGTH): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// === Writing

// Characters XML 1.0 does not allow, and UTF-16 halves without their partner.
const ILLEGAL_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Any character {@link ILLEGAL_XML_CHARS} might remove: every surrogate, paired or not. */
const MAYBE_ILLEGAL_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/;

/**
 * Wraps a value in a CDATA section that cannot be broken out of: every `]]>` is split as
 * `]]]]><![CDATA[>` (so it round-trips through `parseXml` unchanged) and characters XML 1.0 forbids are
 * removed. `null`/`undefined` become an empty section. The only way user-influenced text enters XML.
 * (As in any XML, a reader normalises `\r\n` and `\r` to `\n`.)
 *
 * @example cdata('a]]>b') === '<![CDATA[a]]]]><![CDATA[>b]]>'
 * @see https://www.w3.org/TR/xml/#sec-cdata-sect
 */
export function cdata(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  // Most text has nothing to clean or split: one scan of a plain class decides (surrogates included,
  // so pairs are left to the exact expression).
  if (MAYBE_ILLEGAL_XML_CHARS.test(text)) text = text.replace(ILLEGAL_XML_CHARS, '');
  if (text.includes(']]>')) text = text.split(']]>').join(']]]]><![CDATA[>');
  return `<![CDATA[${text}]]>`;
}

const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Builds a flat XML document: strings in CDATA, numbers bare, `undefined` skipped. For WeChat Pay
 * requests and other flat packets.
 *
 * @example buildXml({ mch_billno: '1000010120240101000001', total_amount: 100 })
 * // '<xml><mch_billno><![CDATA[1000010120240101000001]]></mch_billno><total_amount>100</total_amount></xml>'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function buildXml(fields: Record<string, string | number | undefined>, root = 'xml'): string {
  if (!XML_NAME.test(root)) throw new TypeError('buildXml: the root is not a valid XML element name');
  let body = '';
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!XML_NAME.test(name)) throw new TypeError(`buildXml: "${clip(name, 40)}" is not a valid XML element name`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`buildXml: ${name} must be a finite number`);
      body += `<${name}>${String(value)}</${name}>`;
    } else if (typeof value === 'string') {
      body += `<${name}>${cdata(value)}</${name}>`;
    } else {
      throw new TypeError(`buildXml: ${name} must be a string, a number or undefined`);
    }
  }
  return `<${root}>${body}</${root}>`;
}
