/**
 * The names of the rewards metrics (Prometheus counters on the registry the worker is given).
 *
 * @example metrics.counter(REWARDS_METRICS.sends, 'Red-packet send calls by result').inc({ result: 'sent' })
 * @see https://prometheus.io/docs/practices/naming/
 */
/** Rewards metric names (on the registry passed as `metrics`). */
export const REWARDS_METRICS = {
  sends: 'rewards_redpack_sends_total',
  queries: 'rewards_redpack_queries_total',
  settled: 'rewards_grants_settled_total',
  paused: 'rewards_campaign_paused_total',
  alerts: 'rewards_operator_alerts_total',
} as const;
