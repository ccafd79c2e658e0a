/**
 * A small Prometheus registry: counters and histograms with labels, rendered in the text exposition
 * format for `GET /metrics`. No dependency, no global state: one registry per app.
 *
 * @example const m = createMetrics(); m.counter('wechat_requests_total', 'Requests').inc({ outcome: 'reply' });
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 */

type Labels = Record<string, string>;

/** Rendered one-label sets (`{outcome="reply"}`): the common case, counted on every request. */
const ONE_LABEL_KEYS = new Map<string, string>();
/** Bounds {@link ONE_LABEL_KEYS}, should a label ever take unbounded values. */
const ONE_LABEL_KEYS_MAX = 1024;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels);
  if (keys.length === 1) {
    const id = `${keys[0]}\u0000${labels[keys[0]]}`;
    let key = ONE_LABEL_KEYS.get(id);
    if (key === undefined) {
      key = renderLabels(labels, keys);
      if (ONE_LABEL_KEYS.size < ONE_LABEL_KEYS_MAX) ONE_LABEL_KEYS.set(id, key);
    }
    return key;
  }
  return keys.length === 0 ? '' : renderLabels(labels, keys.sort());
}

function renderLabels(labels: Labels, keys: string[]): string {
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
}

interface Metric {
  render(): string;
}

export interface Metrics {
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram;
  gauge(name: string, help: string): Gauge;
  render(): string;
}

export const DEFAULT_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5, 10] as const;

/** The `# HELP` and `# TYPE` lines of a metric. */
function headerLines(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** A metric with one sample per label set (a counter or a gauge), in the text format. */
function renderSamples(name: string, help: string, type: string, values: ReadonlyMap<string, number>): string {
  const lines = headerLines(name, help, type);
  for (const [k, v] of values) lines.push(`${name}${k} ${v}`);
  return lines.join('\n');
}

export function createMetrics(): Metrics {
  const metrics = new Map<string, Metric & { kind: string }>();

  /** The metric registered under `name`, or the one `make` builds, registered now. */
  function registered<M extends Metric & { kind: string }>(name: string, make: () => M): M {
    const existing = metrics.get(name) as M | undefined;
    if (existing) return existing;
    const m = make();
    metrics.set(name, m);
    return m;
  }

  function counter(name: string, help: string): Counter {
    return registered(name, () => {
      const values = new Map<string, number>();
      return {
        kind: 'counter',
        inc(labels?: Labels, by = 1) {
          const k = labelKey(labels);
          values.set(k, (values.get(k) ?? 0) + by);
        },
        get(labels?: Labels) {
          return values.get(labelKey(labels)) ?? 0;
        },
        render: () => renderSamples(name, help, 'counter', values),
      };
    });
  }

  function gauge(name: string, help: string): Gauge {
    return registered(name, () => {
      const values = new Map<string, number>();
      return {
        kind: 'gauge',
        set(value: number, labels?: Labels) {
          values.set(labelKey(labels), value);
        },
        render: () => renderSamples(name, help, 'gauge', values),
      };
    });
  }

  function histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS): Histogram {
    return registered(name, () => {
      const series = new Map<string, { labels: Labels | undefined; counts: number[]; sum: number; count: number }>();
      return {
        kind: 'histogram',
        observe(value: number, labels?: Labels) {
          const k = labelKey(labels);
          let s = series.get(k);
          if (!s) {
            s = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
            series.set(k, s);
          }
          for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]) s.counts[i]++;
          s.sum += value;
          s.count++;
        },
        render() {
          const lines = headerLines(name, help, 'histogram');
          for (const s of series.values()) {
            buckets.forEach((b, i) => lines.push(`${name}_bucket${labelKey({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
            lines.push(`${name}_bucket${labelKey({ ...s.labels, le: '+Inf' })} ${s.count}`);
            lines.push(`${name}_sum${labelKey(s.labels)} ${s.sum}`);
            lines.push(`${name}_count${labelKey(s.labels)} ${s.count}`);
          }
          return lines.join('\n');
        },
      };
    });
  }

  return {
    counter,
    histogram,
    gauge,
    render: () => [...metrics.values()].map((m) => m.render()).join('\n') + '\n',
  };
}
