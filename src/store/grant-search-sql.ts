/**
 * The grant search of the SQL ledger adapters (`findGrants` / `countGrants`): a WHERE clause built
 * from the fields a filter sets, every value a bound parameter (never spliced into the SQL), and the
 * page's ORDER BY / keyset / LIMIT / OFFSET. SQLite and PostgreSQL differ only in placeholders and in
 * how a list of statuses is bound (`json_each(?)` / `= ANY($n::text[])`).
 *
 * @example
 * const { sql, params } = grantSearchSql('sqlite', filter, { limit: 50, offset: 100 });
 * db.prepare(sql).all(...params);
 * @see https://www.sqlite.org/json1.html#jeach
 */
import type { GrantFilter, GrantPage } from '../rewards/ledger';

type Dialect = 'sqlite' | 'pg';

/** A statement and its bound values. */
export interface BoundSql {
  sql: string;
  params: unknown[];
}

/** A placeholder for `value`, which is appended to `params`. */
function marker(dialect: Dialect, params: unknown[]): (value: unknown, cast?: string) => string {
  return (value, cast = '') => {
    params.push(value);
    return dialect === 'pg' ? `$${params.length}${cast}` : '?';
  };
}

function conditions(dialect: Dialect, filter: GrantFilter, params: unknown[]): string[] {
  const mark = marker(dialect, params);
  const clauses: string[] = [];
  if (filter.openId !== undefined) clauses.push(`open_id = ${mark(filter.openId, '::text')}`);
  if (filter.billNo !== undefined) clauses.push(`bill_no = ${mark(filter.billNo, '::text')}`);
  if (filter.campaign !== undefined) clauses.push(`campaign = ${mark(filter.campaign, '::text')}`);
  if (filter.statuses?.length)
    clauses.push(
      dialect === 'pg' ? `status = ANY(${mark([...filter.statuses], '::text[]')})` : `status IN (SELECT value FROM json_each(${mark(JSON.stringify(filter.statuses))}))`,
    );
  if (filter.createdFrom !== undefined) clauses.push(`created_at >= ${mark(filter.createdFrom, '::bigint')}`);
  if (filter.createdBefore !== undefined) clauses.push(`created_at < ${mark(filter.createdBefore, '::bigint')}`);
  return clauses;
}

const whereOf = (clauses: string[]) => (clauses.length ? `WHERE ${clauses.join(' AND ')}` : '');

/**
 * `SELECT * FROM ledger_grants` of one page of a search (newest first unless `order: 'oldest'`).
 *
 * @example grantSearchSql('pg', { campaign: 'welcome' }, { limit: 20 })
 */
export function grantSearchSql(dialect: Dialect, filter: GrantFilter, page: GrantPage): BoundSql {
  const params: unknown[] = [];
  const mark = marker(dialect, params);
  const oldest = page.order === 'oldest';
  const clauses = conditions(dialect, filter, params);
  if (page.afterId !== undefined) clauses.push(`id ${oldest ? '>' : '<'} ${mark(page.afterId, '::bigint')}`);
  const tail = `ORDER BY id ${oldest ? 'ASC' : 'DESC'} LIMIT ${mark(page.limit, '::bigint')} OFFSET ${mark(page.offset ?? 0, '::bigint')}`;
  return { sql: `SELECT * FROM ledger_grants ${whereOf(clauses)} ${tail}`, params };
}

/**
 * `SELECT COUNT(*) AS n FROM ledger_grants` of a search.
 *
 * @example grantCountSql('sqlite', { openId })
 */
export function grantCountSql(dialect: Dialect, filter: GrantFilter): BoundSql {
  const params: unknown[] = [];
  return { sql: `SELECT COUNT(*) AS n FROM ledger_grants ${whereOf(conditions(dialect, filter, params))}`, params };
}
