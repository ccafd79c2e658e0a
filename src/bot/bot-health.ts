/**
 * The bot's `GET /healthz` report. Anyone sees `ok` and whether the store answers (`ok`, `busy` when
 * another process holds the SQLite lock, `down`); config errors (file paths), the store's error text
 * and the driver only go to a caller with the admin token (`details`).
 *
 * @example createWebhook({ …, health: botHealth({ store, config, sandbox: false }) })
 * @see https://www.sqlite.org/rescode.html#busy
 */
import type { ConfigHolder } from '../config/config-holder';
import type { CompositeStore } from '../store/create-store';
import type { HealthReport } from '../wechat/koa/create-webhook';

/**
 * Builds the health function over the store and the config holder.
 *
 * @example await botHealth({ store, config, sandbox: true })() // → { ok: true, summary: { store: 'ok' }, details: {…} }
 */
export function botHealth(deps: { store: Pick<CompositeStore, 'ping' | 'driver'>; config: Pick<ConfigHolder, 'status'>; sandbox: boolean }): () => Promise<HealthReport> {
  const { store, config, sandbox } = deps;
  return async function health() {
    let storeOk = true;
    let storeError: string | undefined;
    try {
      await store.ping();
    } catch (err) {
      storeOk = false;
      storeError = err instanceof Error ? err.message : String(err);
    }
    return {
      ok: storeOk,
      summary: { store: storeOk ? 'ok' : /^store busy/.test(storeError ?? '') ? 'busy' : 'down' },
      details: { store: { driver: store.driver, ok: storeOk, error: storeError }, config: config.status(), sandbox },
    };
  };
}
