/**
 * Runs `fn` over what `open` gives, then closes it, whether `fn` returned or threw.
 *
 * @example const menu = await withClosing(() => createCliContext(process.env), (ctx) => ctx.api.menu.get());
 */
export async function withClosing<R extends { close(): Promise<void> }, T>(open: () => Promise<R>, fn: (resource: R) => Promise<T>): Promise<T> {
  const resource = await open();
  try {
    return await fn(resource);
  } finally {
    await resource.close();
  }
}
