import { PassThrough } from 'node:stream';
import { readRawBody, type RawBodyFailure } from '../../src/lib/read-raw-body';

class BodyFailure extends Error {
  constructor(readonly why: RawBodyFailure) {
    super(why);
  }
}

const fail = (why: RawBodyFailure) => new BodyFailure(why);

describe('readRawBody', () => {
  it('should resolve the UTF-8 text of every chunk once the stream ends', async () => {
    const req = new PassThrough();
    const text = readRawBody(req, { limitBytes: 64, timeoutMs: 10_000, fail });
    req.write(Buffer.from('<xml>你'));
    req.end(Buffer.from('好</xml>'));
    await expect(text).resolves.toBe('<xml>你好</xml>');
    expect(req.listenerCount('data')).toBe(0);
  });

  it('should reject with fail("too_large") once the bytes pass the limit, and drain the rest', async () => {
    const req = new PassThrough();
    const text = readRawBody(req, { limitBytes: 4, timeoutMs: 10_000, fail });
    req.write('12345');
    await expect(text).rejects.toMatchObject({ why: 'too_large' });
    expect(req.listenerCount('data')).toBe(0);
    expect(req.readableFlowing).toBe(true);
  });

  it('should accept a body of exactly the limit', async () => {
    const req = new PassThrough();
    const text = readRawBody(req, { limitBytes: 4, timeoutMs: 10_000, fail });
    req.end('1234');
    await expect(text).resolves.toBe('1234');
  });

  it('should reject with fail("timeout") when the body does not end in time', async () => {
    const req = new PassThrough();
    const text = readRawBody(req, { limitBytes: 64, timeoutMs: 5, fail });
    req.write('12');
    await expect(text).rejects.toMatchObject({ why: 'timeout' });
  });

  it('should reject with fail("error") or fail("aborted") for those stream events', async () => {
    const broken = new PassThrough();
    const errored = readRawBody(broken, { limitBytes: 64, timeoutMs: 10_000, fail });
    broken.emit('error', new Error('socket hang up'));
    await expect(errored).rejects.toMatchObject({ why: 'error' });
    const aborted = new PassThrough();
    const gone = readRawBody(aborted, { limitBytes: 64, timeoutMs: 10_000, fail });
    aborted.emit('aborted');
    await expect(gone).rejects.toMatchObject({ why: 'aborted' });
  });
});
