/**
 * Collects a request stream into a UTF-8 string with a byte limit and a read timeout. Used by every
 * endpoint that must see the exact bytes it verifies (the WeChat webhook, WeChat Pay notifications);
 * each caller maps a failure to its own error through `fail`.
 *
 * @example const text = await readRawBody(ctx.req, { limitBytes: 64 * 1024, timeoutMs: 10_000, fail: (why) => new MyError(why) });
 * @see https://nodejs.org/api/http.html#class-httpincomingmessage
 */

/** Why collecting stopped: over the limit, a stream error, the client aborted, or the timeout passed. */
export type RawBodyFailure = 'too_large' | 'error' | 'aborted' | 'timeout';

export interface ReadRawBodyOptions {
  /** Largest body accepted, in bytes. */
  limitBytes: number;
  /** How long the whole body may take to arrive. */
  timeoutMs: number;
  /** Builds the error the promise rejects with. */
  fail: (why: RawBodyFailure) => Error;
}

/** A readable request (`IncomingMessage` or alike); `aborted` is listened for when it is emitted. */
export type RawBodyStream = NodeJS.ReadableStream & { resume: () => NodeJS.ReadableStream };

/**
 * Reads `req` to its end. On a failure, stops listening, resumes the stream (so the rest is drained,
 * not buffered) and rejects with `fail(why)`.
 *
 * @example const text = await readRawBody(req, { limitBytes: 1024, timeoutMs: 5000, fail: (why) => new Error(why) });
 * @see https://nodejs.org/api/stream.html#event-data
 */
export function readRawBody(req: RawBodyStream, options: ReadRawBodyOptions): Promise<string> {
  const { limitBytes, timeoutMs, fail } = options;
  return new Promise(function collectRawBody(resolve, reject) {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (why?: RawBodyFailure) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
      if (why) {
        req.resume();
        reject(fail(why));
      } else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) finish('too_large');
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = () => finish('error');
    const onAborted = () => finish('aborted');
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    timer.unref?.();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
