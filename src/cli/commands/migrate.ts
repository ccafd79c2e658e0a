/**
 * `npx wechat-bot migrate`: creates or upgrades the database the settings name, then exits — the
 * step to run before rolling out a new version to many instances. It opens what a bot opens at start
 * (the store: Redis and/or PostgreSQL or SQLite; the rewards ledger and outbox; the spend order
 * store), which applies every pending migration step, and prints the schema version of each
 * component. Every instance also migrates at start, so the command is optional: on PostgreSQL the
 * steps run under one advisory lock, so any number of instances (or this command beside them)
 * migrate exactly once; steps are append-only, each in its own transaction.
 *
 * @example DATABASE_URL=postgres://bot@db/bot BOT_PG_SCHEMA=bot npx wechat-bot migrate
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings';
import { openStores } from '../../store/open-stores';
import { schemaVersionPg } from '../../store/pg-migrate';
import { urlHost } from '../../store/redact-url';
import { openSqlite, schemaVersion } from '../../store/sqlite-migrate';
import { processIo, type CliIo } from './config';

type Env = Record<string, string | undefined>;

/** The components whose tables a bot creates, in the order it opens them. */
export const MIGRATED_COMPONENTS = ['store', 'ledger', 'spend-orders', 'card-members'] as const;

/** Where the durable tables live, for the report line (never the URL: it may hold a password). */
function describeDatabase(settings: Settings): string {
  const { databaseUrl, postgresSchema, sqlitePath } = settings.store;
  if (databaseUrl) return `PostgreSQL ${urlHost(databaseUrl, 5432)}${postgresSchema ? ` (schema ${postgresSchema})` : ''}`;
  return `SQLite ${sqlitePath}`;
}

/**
 * Runs the migrations and returns the exit code (0 done, 1 failed).
 *
 * @example const code = await runMigrate(process.env, processIo);
 * @see https://www.postgresql.org/docs/current/ddl-schemas.html
 */
export async function runMigrate(env: Env, io: CliIo, cwd?: string): Promise<number> {
  let settings: Settings;
  try {
    settings = loadSettings(env, cwd);
  } catch (error) {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const closers: (() => Promise<void>)[] = [];
  try {
    // The store, the ledger and the orders, as the bot opens them at start (each migrates its tables).
    const store = await openStores(settings.store);
    closers.push(() => store.close());

    let versions: number[];
    const pool = store.backends.postgres?.pool;
    if (pool) {
      versions = await Promise.all(MIGRATED_COMPONENTS.map((c) => schemaVersionPg(pool, c)));
    } else {
      const db = openSqlite(settings.store.sqlitePath);
      try {
        versions = MIGRATED_COMPONENTS.map((c) => schemaVersion(db, c));
      } finally {
        db.close();
      }
    }
    const parts = MIGRATED_COMPONENTS.map((c, i) => `${c} v${versions[i]}`).join(', ');
    const redis = settings.store.redisUrl ? `; Redis ${urlHost(settings.store.redisUrl, 6379)} reachable` : '';
    io.out(`migrated ${describeDatabase(settings)}: ${parts}${redis}`);
    return 0;
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    io.err(`error: ${error instanceof Error ? error.message : String(error)}${cause}`);
    return 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/**
 * Registers `migrate`.
 *
 * @example register(new Command())
 * @see https://github.com/tj/commander.js
 */
export function register(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the database (REDIS_URL / DATABASE_URL / BOT_PG_SCHEMA, else the SQLite file) and exit')
    .action(async () => {
      process.exitCode = await runMigrate(process.env, processIo);
    });
}
