/**
 * Keeps connection URLs (which may carry a password) out of store errors, as house rule 7 asks.
 *
 * @example throw new Error(`cannot reach ${urlHost(url, 5432)}`, { cause: redactUrl(error, url) });
 * @see https://developer.mozilla.org/en-US/docs/Web/API/URL
 */

/**
 * `host:port/path` of a URL, never its user or password.
 *
 * @example urlHost('redis://:secret@10.0.0.1', 6379) // → '10.0.0.1:6379'
 * @see https://developer.mozilla.org/en-US/docs/Web/API/URL
 */
export function urlHost(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    const path = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.hostname}:${u.port || defaultPort}${path}`;
  } catch {
    return '(unparseable url)';
  }
}

/**
 * The error, or a copy whose message has the URL and its password replaced by `***`.
 *
 * @example redactUrl(new Error('auth failed for s3cret'), 'redis://:s3cret@h') // message 'auth failed for ***'
 * @see https://developer.mozilla.org/en-US/docs/Web/API/URL
 */
export function redactUrl(error: unknown, url: string): unknown {
  if (!(error instanceof Error)) return error;
  const secrets = [url];
  try {
    const u = new URL(url);
    if (u.password) secrets.push(decodeURIComponent(u.password), u.password);
  } catch {
    /* nothing more to hide */
  }
  let message = error.message;
  for (const s of secrets) if (s) message = message.split(s).join('***');
  if (message === error.message) return error;
  const copy = new Error(message);
  copy.name = error.name;
  return copy;
}
