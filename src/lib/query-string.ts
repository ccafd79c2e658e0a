/**
 * A small parser for the webhook's query string (`signature`, `timestamp`, `nonce`, `openid`,
 * `encrypt_type`, `msg_signature`, `echostr`). Koa's `ctx.query` getter costs about 30 µs a request on
 * this kind of query — more than checking the signature — so the webhook parses `ctx.querystring`
 * once with this instead.
 *
 * Rules: `application/x-www-form-urlencoded` (`+` is a space, `%XX` escapes). A key given more than
 * once, or an escape that is not valid UTF-8 percent-encoding, gives `undefined` for that key, so a
 * caller treats it as missing. The result has no prototype: `__proto__` is an ordinary key.
 *
 * @example parseQueryString('timestamp=1&nonce=2').nonce === '2'
 */
export type QueryValues = Readonly<Record<string, string | undefined>>;

export function parseQueryString(qs: string): QueryValues {
  const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  let start = 0;
  const n = qs.length;
  while (start <= n) {
    let end = qs.indexOf('&', start);
    if (end === -1) end = n;
    if (end > start) {
      const eq = qs.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const key = decode(qs.slice(start, hasValue ? eq : end));
      const value = hasValue ? decode(qs.slice(eq + 1, end)) : '';
      // `in` is safe on a prototype-less object; a key seen before is there even if its value is undefined.
      if (key !== undefined) out[key] = key in out ? undefined : value;
    }
    start = end + 1;
  }
  return out;
}

/** Decodes one component; `undefined` when its percent-encoding is broken. */
function decode(s: string): string | undefined {
  if (s.indexOf('+') !== -1) s = s.replace(/\+/g, ' ');
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
