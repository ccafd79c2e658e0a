import { AxiosError } from 'axios';
import { ERRCODE_HINTS, WeChatApiError, WeChatHttpError, endpointPath, scrubText, toHttpError } from '../../src/api/errors';

describe('WeChatApiError', () => {
  it.each([
    [40164, /whitelist/],
    [40125, /AppSecret is wrong/],
    [40013, /AppID/],
    [45009, /quota/],
    [48001, /not authorised/],
    [45015, /48 hours/],
    [40001, /not the latest/],
    [42001, /expired/],
  ])('should carry a hint for %i', (code, hint) => {
    const e = new WeChatApiError(code, 'msg', '/cgi-bin/x');
    expect(e.hint).toMatch(hint);
    expect(e.message).toContain(e.hint);
  });

  it('should keep the path only and scrub the errmsg', () => {
    const e = new WeChatApiError(40001, 'bad access_token=SECRET123456', 'https://api.weixin.qq.com/cgi-bin/menu/get?access_token=SECRET123456');
    expect(e.endpoint).toBe('/cgi-bin/menu/get');
    expect(JSON.stringify(e)).not.toContain('SECRET123456');
    expect(e.message).not.toContain('SECRET123456');
    expect(e.isTokenError).toBe(true);
    expect(new WeChatApiError(99999, 'x', '/a').hint).toBeUndefined();
  });

  it('should list a hint for every token code', () => {
    for (const code of [40001, 40014, 42001]) expect(ERRCODE_HINTS[code]).toBeDefined();
  });
});

describe('toHttpError', () => {
  it('should keep only name, code, message and status of an axios error that carries the URL', () => {
    const url = 'https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=TOKEN_abcdef123456';
    const axiosErr = new AxiosError(`connect ECONNREFUSED for ${url}`, 'ECONNREFUSED', { url, params: { access_token: 'TOKEN_abcdef123456' } } as never);
    const e = toHttpError(url, axiosErr);
    expect(e).toBeInstanceOf(WeChatHttpError);
    expect(e.endpoint).toBe('/cgi-bin/message/custom/send');
    expect(e.cause.code).toBe('ECONNREFUSED');
    for (const text of [e.message, JSON.stringify(e), String(e.stack), JSON.stringify(e.cause)]) expect(text).not.toContain('TOKEN_abcdef123456');
  });
});

describe('scrubText', () => {
  it('should redact tokens and secrets in query strings and JSON', () => {
    expect(scrubText('GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=abc123 failed')).toBe(
      'GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=[redacted] failed',
    );
    expect(scrubText('{"appid":"wx1","secret":"abc"}')).toBe('{"appid":"wx1","secret":"[redacted]"}');
    expect(scrubText('x literal-secret y', ['literal-secret'])).toBe('x [redacted] y');
  });
});

describe('endpointPath', () => {
  it('should drop host and query', () => {
    expect(endpointPath('http://127.0.0.1:3/cgi-bin/token?secret=x')).toBe('/cgi-bin/token');
    expect(endpointPath('/cgi-bin/menu/get?access_token=x')).toBe('/cgi-bin/menu/get');
  });
});
