import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildXml, cdata, MalformedXmlError, parseXml, XML_MAX_DEPTH, XML_MAX_ELEMENTS } from '../../src/wechat/xml';

/** parseXml must return an object or throw MalformedXmlError — nothing else, ever. */
function parseOrMalformed(text: string): Record<string, unknown> | MalformedXmlError {
  try {
    const result = parseXml(text);
    if (result === null || typeof result !== 'object' || Array.isArray(result)) {
      throw new Error(`parseXml returned ${typeof result}`);
    }
    return result;
  } catch (error) {
    if (error instanceof MalformedXmlError) return error;
    throw error;
  }
}

function expectMalformed(text: string, pattern?: RegExp): MalformedXmlError {
  const result = parseOrMalformed(text);
  expect(result).toBeInstanceOf(MalformedXmlError);
  if (pattern) expect((result as MalformedXmlError).message).toMatch(pattern);
  return result as MalformedXmlError;
}

/** What survives XML: forbidden characters removed, line ends normalised as every XML parser must. */
function legalXmlText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/\r\n?/g, '\n');
}

const nested = (depth: number): string => `${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}`;

describe('parseXml', () => {
  it('should return the children of the root element as strings', () => {
    expect(parseXml('<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>1348831860</CreateTime></xml>')).toEqual({ ToUserName: 'gh_1', CreateTime: '1348831860' });
  });

  it('should keep 64-bit ids, leading zeros and decimals as strings', () => {
    expect(parseXml('<xml><MsgId>6054768590064713728</MsgId><Code>0012</Code><X>23.134521</X><E>1e5</E></xml>')).toEqual({
      MsgId: '6054768590064713728',
      Code: '0012',
      X: '23.134521',
      E: '1e5',
    });
  });

  it('should trim whitespace around CDATA but keep whitespace inside it', () => {
    expect(parseXml('<xml><CardId> <![CDATA[p1]]> </CardId><Content><![CDATA[  two  spaces \n]]></Content></xml>')).toEqual({
      CardId: 'p1',
      Content: '  two  spaces \n',
    });
  });

  it('should read empty CDATA and empty elements as empty strings', () => {
    expect(parseXml('<xml><A><![CDATA[]]></A><B/><C></C><D> </D></xml>')).toEqual({ A: '', B: '', C: '', D: '' });
  });

  it('should join CDATA sections split around ]]>', () => {
    expect(parseXml('<xml><A><![CDATA[a]]]]><![CDATA[>b]]></A></xml>')).toEqual({ A: 'a]]>b' });
  });

  it('should nest objects and collect repeated elements into arrays', () => {
    const xml =
      '<xml><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum>a</PicMd5Sum></item>' +
      '<item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo><One><item><K>v</K></item></One></xml>';
    expect(parseXml(xml)).toEqual({
      SendPicsInfo: { Count: '2', PicList: { item: [{ PicMd5Sum: 'a' }, { PicMd5Sum: 'b' }] } },
      One: { item: { K: 'v' } },
    });
  });

  it('should decode the five built-in entities and numeric character references', () => {
    expect(parseXml('<xml><A>&lt;&gt;&amp;&quot;&apos;&#65;&#x4E2D;&#x1F600;</A></xml>')).toEqual({ A: '<>&"\'A中😀' });
  });

  it('should not decode entities inside CDATA', () => {
    expect(parseXml('<xml><A><![CDATA[&lt;&amp;]]></A></xml>')).toEqual({ A: '&lt;&amp;' });
  });

  it('should accept a declaration, comments, processing instructions and any root name', () => {
    expect(parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<!-- hi --><root><?pi x?><A>1</A><!-- c --></root>\n')).toEqual({ A: '1' });
  });

  it('should ignore attributes', () => {
    expect(parseXml('<xml a="1"><A b="2">v</A></xml>')).toEqual({ A: 'v' });
  });

  it('should return an empty object for a root without child elements', () => {
    expect(parseXml('<xml/>')).toEqual({});
    expect(parseXml('<xml>text only</xml>')).toEqual({});
  });

  it('should parse every inbound vector without error', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON fixture, read as data
    const vectors = require('../fixtures/vectors/inbound-xml.json') as { id: string; xml: string }[];
    for (const v of vectors) expect(typeof parseXml(v.xml)).toBe('object');
  });

  it('should reject DOCTYPE, whatever its case, and ENTITY declarations', () => {
    expectMalformed('<!DOCTYPE xml><xml/>', /DOCTYPE/);
    expectMalformed('<!doctype xml><xml/>', /DOCTYPE/);
    expectMalformed('<xml><!ENTITY e "x"></xml>', /ENTITY/);
  });

  it('should reject the billion-laughs attack at once', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
      ']><xml><A>&lol9;</A></xml>';
    expectMalformed(laughs, /DOCTYPE/);
  });

  it('should reject external entities (XXE)', () => {
    expectMalformed('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>', /DOCTYPE/);
  });

  it('should treat DOCTYPE inside CDATA or a comment as text', () => {
    expect(parseXml('<xml><!-- <!DOCTYPE x> --><A><![CDATA[<!DOCTYPE x>]]></A></xml>')).toEqual({ A: '<!DOCTYPE x>' });
  });

  it('should reject undefined entities and references to characters XML forbids', () => {
    expectMalformed('<xml><A>&nbsp;</A></xml>', /undefined entity &nbsp;/);
    expectMalformed('<xml><A>&#0;</A></xml>', /character reference/);
    expectMalformed('<xml><A>&#xD800;</A></xml>', /character reference/);
    expectMalformed('<xml><A>&#x110000;</A></xml>');
    expectMalformed('<xml><A>a & b</A></xml>');
  });

  it(`should accept ${XML_MAX_DEPTH} levels of nesting and reject ${XML_MAX_DEPTH + 1}`, () => {
    expect(parseOrMalformed(nested(XML_MAX_DEPTH))).not.toBeInstanceOf(MalformedXmlError);
    expectMalformed(nested(XML_MAX_DEPTH + 1), /deeper than 32/);
    expectMalformed(nested(1000), /deeper/);
    expectMalformed(nested(20_000), /more than 4096 elements/);
  });

  it(`should reject more than ${XML_MAX_ELEMENTS} elements`, () => {
    expect(parseOrMalformed(`<xml>${'<a/>'.repeat(XML_MAX_ELEMENTS - 1)}</xml>`)).not.toBeInstanceOf(MalformedXmlError);
    expectMalformed(`<xml>${'<a/>'.repeat(XML_MAX_ELEMENTS)}</xml>`, /more than 4096 elements/);
  });

  it('should not count markup inside CDATA as elements', () => {
    const content = '<a/>'.repeat(XML_MAX_ELEMENTS + 10);
    expect(parseXml(`<xml><Content>${cdata(content)}</Content></xml>`)).toEqual({ Content: content });
  });

  it.each([
    ['empty input', ''],
    ['whitespace', '   '],
    ['plain text', 'hello'],
    ['JSON', '{"a":1}'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['mismatched tags', '<xml><A>1</B></xml>'],
    ['case-mismatched tags', '<xml></XML>'],
    ['two roots', '<xml/><xml/>'],
    ['text after the root', '<xml/>tail'],
    ['text before the root', 'head<xml/>'],
    ['an unterminated CDATA', '<xml><A><![CDATA[x</A></xml>'],
    ['an unterminated comment', '<xml><!-- x</xml>'],
    ['a duplicated attribute', '<xml a="1" a="2"/>'],
    ['a bad tag name', '<xml><1a>x</1a></xml>'],
  ])('should reject %s', (_name, text) => {
    expectMalformed(text);
  });

  it('should reject element names that would pollute prototypes', () => {
    expectMalformed('<xml><__proto__><polluted>1</polluted></__proto__></xml>', /reserved/);
    expectMalformed('<xml><constructor>1</constructor></xml>', /reserved/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should reject a non-string input with MalformedXmlError', () => {
    expectMalformed(Buffer.from('<xml/>') as unknown as string, /string/);
    expectMalformed(undefined as unknown as string);
  });

  it('should not echo a huge input in its message', () => {
    const huge = `<xml><${'A'.repeat(60_000)}></xml>`;
    const error = expectMalformed(huge);
    expect(error.message.length).toBeLessThan(300);
    const error2 = expectMalformed(`<xml><A>&${'b'.repeat(60_000)};</A></xml>`);
    expect(error2.message.length).toBeLessThan(300);
  });

  it('should refuse pathological inputs of 64 KiB, the floods and unterminated sections in the linear pre-scan before the XML library sees them', () => {
    const n = 64 * 1024;
    // [input, expected message, reaches XMLValidator, reaches XMLParser]
    const cases: [string, RegExp, boolean, boolean][] = [
      ['<'.repeat(n), /more than 4096 elements/, false, false],
      ['<a>'.repeat(n / 3), /more than 4096 elements/, false, false],
      [`<xml>${'<![CDATA['.repeat(n / 9)}`, /unterminated CDATA/, false, false],
      [`<xml>${'<!--'.repeat(n / 4)}`, /unterminated comment/, false, false],
      [`<xml>${'&'.repeat(n)}</xml>`, /malformed XML at line 1/, true, false],
      [`<x ${'a '.repeat(n / 2)}`, /malformed XML at line 1/, true, false],
      [`<x a="${' '.repeat(n)}`, /malformed XML at line 1/, true, false],
      ['<?'.repeat(n / 2), /malformed XML at line 1/, true, false],
      ['<!'.repeat(n / 2), /malformed XML at line 1/, true, false],
      ['</a>'.repeat(n / 4), /malformed XML at line 1/, true, false],
      [`<xml>${' '.repeat(n)}x`, /malformed XML at line 1/, true, false],
      [`<xml>${'&#1;'.repeat(n / 4)}</xml>`, /character reference/, true, true],
    ];
    const validate = jest.spyOn(XMLValidator, 'validate');
    const parse = jest.spyOn(XMLParser.prototype, 'parse');
    try {
      for (const [input, message, validated, parsed] of cases) {
        validate.mockClear();
        parse.mockClear();
        expect(expectMalformed(input).message).toMatch(message);
        expect([input.slice(0, 12), validate.mock.calls.length, parse.mock.calls.length]).toEqual([input.slice(0, 12), validated ? 1 : 0, parsed ? 1 : 0]);
      }
    } finally {
      validate.mockRestore();
      parse.mockRestore();
    }
  });

  it('should stop the pre-scan after a number of steps bounded by XML_MAX_ELEMENTS, whatever the size of the flood', () => {
    // Steps = String.prototype.indexOf calls (each resumes after the previous '<'): the same at 64 and
    // 128 KiB, so the work before refusing does not grow with the input.
    const floods = [
      (n: number) => '<'.repeat(n),
      (n: number) => '<a>'.repeat(n / 3),
      (n: number) => `<xml>${'<![CDATA['.repeat(n / 9)}`,
      (n: number) => `<xml>${'<!--'.repeat(n / 4)}`,
    ];
    for (const flood of floods) {
      const steps = [64 * 1024, 128 * 1024].map((n) => {
        const input = flood(n);
        const indexOf = jest.spyOn(String.prototype, 'indexOf');
        try {
          expectMalformed(input);
          return indexOf.mock.calls.length;
        } finally {
          indexOf.mockRestore();
        }
      });
      expect(steps[0]).toBe(steps[1]);
      expect(steps[0]).toBeLessThanOrEqual(XML_MAX_ELEMENTS + 2);
    }
  });

  describe('properties', () => {
    it('should return an object or throw MalformedXmlError for arbitrary strings', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
          parseOrMalformed(text);
        }),
        { numRuns: 500 },
      );
    });

    it('should return an object or throw MalformedXmlError for arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
          parseOrMalformed(Buffer.from(bytes).toString('utf8'));
          parseOrMalformed(Buffer.from(bytes).toString('latin1'));
        }),
        { numRuns: 500 },
      );
    });

    it('should return an object or throw MalformedXmlError for XML-like token soup', () => {
      const token = fc.constantFrom(
        '<xml>',
        '</xml>',
        '<A>',
        '</A>',
        '<B/>',
        '<',
        '>',
        '</',
        '/>',
        '<![CDATA[',
        ']]>',
        '<!--',
        '-->',
        '<!DOCTYPE',
        '<!ENTITY',
        '<?xml version="1.0"?>',
        '<?',
        '?>',
        '&',
        '&amp;',
        '&lt;',
        '&#',
        '&#x',
        ';',
        '1F600',
        'x',
        ' ',
        '\n',
        '"',
        "'",
        '=',
        'a="1"',
        '__proto__',
        'constructor',
        '\u0000',
        '\uD800',
        '中',
      );
      fc.assert(
        fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {
          parseOrMalformed(tokens.join(''));
        }),
        { numRuns: 1000 },
      );
    });

    it('should round-trip arbitrary trees written with cdata()', () => {
      const name = fc.constantFrom('ToUserName', 'Content', 'item', 'A', 'b_c', 'd-e', 'x.y', 'MsgId');
      const leaf = fc.string({ unit: 'binary', maxLength: 40 });
      const { tree } = fc.letrec<{ tree: Record<string, unknown>; node: unknown }>((tie) => ({
        tree: fc.dictionary(name, tie('node'), { minKeys: 1, maxKeys: 4 }),
        node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('tree'), fc.array(fc.oneof(leaf, tie('tree')), { minLength: 2, maxLength: 3 })),
      }));
      const write = (object: Record<string, unknown>): string =>
        Object.entries(object)
          .map(([key, value]) =>
            (Array.isArray(value) ? value : [value]).map((v) => `<${key}>${typeof v === 'string' ? cdata(v) : write(v as Record<string, unknown>)}</${key}>`).join(''),
          )
          .join('');
      const expected = (value: unknown): unknown => {
        if (typeof value === 'string') return legalXmlText(value);
        if (Array.isArray(value)) return value.map(expected);
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expected(v)]));
      };
      fc.assert(
        fc.property(tree, (object) => {
          expect(parseXml(`<xml>${write(object)}</xml>`)).toEqual(expected(object));
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('cdata', () => {
  it('should wrap text in a CDATA section', () => {
    expect(cdata('hello')).toBe('<![CDATA[hello]]>');
  });

  it('should split every ]]> so the section cannot be closed early', () => {
    expect(cdata('a]]>b]]>')).toBe('<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]>');
    expect(parseXml(`<xml><A>${cdata(']]>]]>]]]>>')}</A></xml>`)).toEqual({ A: ']]>]]>]]]>>' });
  });

  it('should not let content add or close elements', () => {
    const evil = ']]></Content><MsgType>news</MsgType><Content><![CDATA[';
    expect(parseXml(`<xml><Content>${cdata(evil)}</Content><MsgType>text</MsgType></xml>`)).toEqual({
      Content: evil,
      MsgType: 'text',
    });
  });

  it('should strip characters XML 1.0 forbids and keep tab, newline, carriage return', () => {
    expect(cdata('a\u0000b\u0008c\u000Bd\u001Fe\uFFFEf\t\n\rg')).toBe('<![CDATA[abcdef\t\n\rg]]>');
  });

  it('should strip lone surrogates but keep pairs', () => {
    expect(cdata('x\uD800y\uDC00z😀')).toBe('<![CDATA[xyz😀]]>');
  });

  it('should write null and undefined as empty and stringify other values', () => {
    expect(cdata(undefined)).toBe('<![CDATA[]]>');
    expect(cdata(null)).toBe('<![CDATA[]]>');
    expect(cdata(42)).toBe('<![CDATA[42]]>');
  });

  it('should round-trip any string through parseXml, minus forbidden characters and modulo line-end normalisation', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(parseXml(`<xml><A>${cdata(text)}</A></xml>`)).toEqual({ A: legalXmlText(text) });
      }),
      { numRuns: 500 },
    );
  });
});

describe('buildXml', () => {
  it('should write strings in CDATA, numbers bare and skip undefined', () => {
    expect(buildXml({ a: 'x', n: 100, skip: undefined, z: '' })).toBe('<xml><a><![CDATA[x]]></a><n>100</n><z><![CDATA[]]></z></xml>');
  });

  it('should use the given root', () => {
    expect(buildXml({ a: 1 }, 'request')).toBe('<request><a>1</a></request>');
  });

  it('should round-trip through parseXml', () => {
    const fields = { mch_billno: '10000100202401010000000001', total_amount: 100, wishing: '恭喜发财 ]]> <b>', nonce_str: 'abc' };
    expect(parseXml(buildXml(fields))).toEqual({ ...fields, total_amount: '100' });
  });

  it('should refuse invalid element names, non-finite numbers and other values', () => {
    expect(() => buildXml({ 'a b': 'x' })).toThrow(TypeError);
    expect(() => buildXml({ '<a>': 'x' })).toThrow(TypeError);
    expect(() => buildXml({ a: Number.NaN })).toThrow(TypeError);
    expect(() => buildXml({ a: {} as unknown as string })).toThrow(TypeError);
    expect(() => buildXml({ a: 'x' }, 'bad root')).toThrow(TypeError);
  });
});
