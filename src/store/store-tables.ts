/**
 * The store's tables (kv, de-duplication, counters, request bindings), written once for the SQLite and
 * the PostgreSQL adapter. The dialects differ in one word, the integer of expiries (epoch ms) and
 * counter values: SQLite's INTEGER is 64-bit already, PostgreSQL needs BIGINT. Each adapter keeps its
 * own list of schema steps (their histories differ: SQLite dropped the de-duplication expiry index and
 * sweeps bindings by age, PostgreSQL indexes their expiry).
 *
 * @example migrate(db, 'store', [storeTablesMigration('INTEGER'), …]);
 * @see https://www.postgresql.org/docs/current/datatype-numeric.html
 */

/** The integer a dialect stores expiries and counter values in. */
export type StoreInt = 'INTEGER' | 'BIGINT';

/** Schema step 1 of the store: kv, de-duplication and counters, each with an index on its expiry. */
export function storeTablesMigration(int: StoreInt): string {
  return `CREATE TABLE store_kv (
     key        TEXT PRIMARY KEY,
     value      TEXT NOT NULL,
     expires_at ${int}            -- epoch ms by the store's clock; NULL = never
   );
   CREATE INDEX store_kv_expires ON store_kv (expires_at) WHERE expires_at IS NOT NULL;
   CREATE TABLE store_dedupe (
     key        TEXT PRIMARY KEY,
     state      TEXT NOT NULL CHECK (state IN ('in-flight', 'done')),
     reply      TEXT,
     expires_at ${int} NOT NULL
   );
   CREATE INDEX store_dedupe_expires ON store_dedupe (expires_at);
   CREATE TABLE store_counters (
     key        TEXT PRIMARY KEY,
     value      ${int} NOT NULL,
     expires_at ${int} NOT NULL
   );
   CREATE INDEX store_counters_expires ON store_counters (expires_at);`;
}

/** `CREATE TABLE store_bindings`: signed webhook requests bound to the digest of their first body (`BindingStore`). */
export function bindingsTableSql(int: StoreInt): string {
  return `CREATE TABLE store_bindings (
     key        TEXT PRIMARY KEY,
     digest     TEXT NOT NULL,
     expires_at ${int} NOT NULL
   );`;
}
