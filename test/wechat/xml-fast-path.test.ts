/**
 * `parseXml` reads the flat packets WeChat sends in one linear pass and everything else through the
 * validator and parser. These properties prove the two agree: on every document, the fast path gives
 * the general path's result, or the general path's error.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { MalformedXmlError, parseXml, parseXmlStrict } from '../../src/wechat/xml';

type Outcome = { ok: true; value: unknown } | { ok: false };

function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedXmlError);
    return { ok: false };
  }
}

function expectSame(xml: string): void {
  expect(outcome(() => parseXml(xml))).toEqual(outcome(() => parseXmlStrict(xml)));
}

const name = fc.constantFrom(
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'Content',
  'MsgId',
  'Event',
  'EventKey',
  'a',
  '_x1',
  'xmlish',
  'XmLish',
  'xm',
  '__proto__',
  'constructor',
);
const space = fc.constantFrom('', ' ', '\n', '\t', '  \n  ', '\u00a0', '\u3000', '\r\n');
const text = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'hello',
    '你好 👋',
    'a & b',
    'a &amp; b',
    'x]]>y',
    'a>b',
    '<b>',
    '1234567890123456789',
    '\u0001',
    '\u0000',
    '\u001f',
    '\u000b',
    '\ud800',
    '\udc00x',
    '\ud83d\udc4b',
    '\ufffe',
    '\uffff',
    '\ufffd',
    '',
  ),
);
const leaf = fc.record({
  name,
  before: space,
  after: space,
  cdata: fc.boolean(),
  value: text,
});
const packet = fc.record({
  lead: space,
  trail: space,
  leaves: fc.array(leaf, { maxLength: 8 }),
  root: fc.constantFrom('xml', 'xml', 'xml', 'root'),
});

interface Packet {
  lead: string;
  trail: string;
  leaves: { name: string; before: string; after: string; cdata: boolean; value: string }[];
  root: string;
}

function render(p: Packet): string {
  const body = p.leaves
    .map((l) => `<${l.name}>${l.before}${l.cdata ? `<![CDATA[${l.value.split(']]>').join(']]]]><![CDATA[>')}]]>` : l.value}${l.after}</${l.name}>`)
    .join(p.lead);
  return `${p.lead}<${p.root}>${body}</${p.root}>${p.trail}`;
}

describe('parseXml fast path', () => {
  it('should give exactly what the general path gives, for packet-shaped documents', () => {
    fc.assert(
      fc.property(packet, (p) => expectSame(render(p))),
      { numRuns: 1500 },
    );
  });

  it('should give exactly what the general path gives, for packet-shaped documents with a character changed', () => {
    fc.assert(
      fc.property(packet, fc.nat(), fc.constantFrom('<', '>', '&', '/', ']', ' ', '\r', '!', '?', 'x'), (p, at, c) => {
        const xml = render(p);
        const i = xml.length === 0 ? 0 : at % xml.length;
        expectSame(xml.slice(0, i) + c + xml.slice(i + 1));
      }),
      { numRuns: 1500 },
    );
  });

  it('should agree with the general path on every inbound fixture', () => {
    const dir = path.join(__dirname, '../fixtures/inbound');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.xml'))) expectSame(fs.readFileSync(path.join(dir, f), 'utf8'));
  });
});
