import fc from 'fast-check';
import { parseQueryString } from '../../src/lib/query-string';

describe('parseQueryString', () => {
  it('should read the keys WeChat sends', () => {
    const q = parseQueryString('signature=abc&timestamp=1714036504&nonce=1514711492&openid=oX_1&encrypt_type=aes&msg_signature=def');
    expect({ ...q }).toEqual({
      signature: 'abc',
      timestamp: '1714036504',
      nonce: '1514711492',
      openid: 'oX_1',
      encrypt_type: 'aes',
      msg_signature: 'def',
    });
  });

  it('should decode percent escapes and + as a space', () => {
    expect(parseQueryString('echostr=a%2Bb+c%20d').echostr).toBe('a+b c d');
    expect(parseQueryString('k=%E4%BD%A0%E5%A5%BD').k).toBe('你好');
  });

  it('should give an empty string for a key without a value, and skip empty parts', () => {
    const q = parseQueryString('&a&b=&&c=1&');
    expect({ ...q }).toEqual({ a: '', b: '', c: '1' });
  });

  it('should make a repeated key undefined, so a caller treats it as missing', () => {
    const q = parseQueryString('nonce=1&nonce=1&timestamp=2');
    expect('nonce' in q).toBe(true);
    expect(q.nonce).toBeUndefined();
    expect(q.timestamp).toBe('2');
  });

  it('should make a value with broken percent-encoding undefined', () => {
    expect(parseQueryString('a=%E4%BD&b=%zz&c=ok').a).toBeUndefined();
    expect(parseQueryString('b=%zz').b).toBeUndefined();
    expect(parseQueryString('c=ok&%zz=1').c).toBe('ok');
  });

  it('should keep __proto__ an ordinary key', () => {
    const q = parseQueryString('__proto__=x&constructor=y');
    expect(q.__proto__).toBe('x');
    expect(q.constructor).toBe('y');
    expect(Object.getPrototypeOf(q)).toBeNull();
  });

  it('should agree with URLSearchParams on every query without repeated keys or broken escapes', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (dict) => {
        const qs = new URLSearchParams(dict).toString();
        expect({ ...parseQueryString(qs) }).toEqual(Object.fromEntries(new URLSearchParams(qs)));
      }),
    );
  });

  it('should never throw on any string', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseQueryString(s)));
  });
});
