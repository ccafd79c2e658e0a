import { createMetrics } from '../../src/lib/metrics';

describe('createMetrics', () => {
  it('should count by label set, one label or several in any order', () => {
    const m = createMetrics();
    const c = m.counter('wechat_requests_total', 'Requests');
    c.inc({ outcome: 'reply' });
    c.inc({ outcome: 'reply' });
    c.inc({ outcome: 'empty' }, 3);
    c.inc({ b: '2', a: '1' });
    c.inc({ a: '1', b: '2' });
    c.inc();
    expect(c.get({ outcome: 'reply' })).toBe(2);
    expect(c.get({ outcome: 'empty' })).toBe(3);
    expect(c.get({ a: '1', b: '2' })).toBe(2);
    expect(c.get()).toBe(1);
    expect(c.get({ outcome: 'other' })).toBe(0);
    expect(m.render()).toBe(
      [
        '# HELP wechat_requests_total Requests',
        '# TYPE wechat_requests_total counter',
        'wechat_requests_total{outcome="reply"} 2',
        'wechat_requests_total{outcome="empty"} 3',
        'wechat_requests_total{a="1",b="2"} 2',
        'wechat_requests_total 1',
      ].join('\n') + '\n',
    );
  });

  it('should escape backslash, quote and newline in label values, and keep label sets apart', () => {
    const m = createMetrics();
    const c = m.counter('x_total', 'x');
    c.inc({ v: 'a"b\\c\nd' });
    c.inc({ v: 'a' });
    c.inc({ w: 'a' });
    expect(m.render()).toContain('x_total{v="a\\"b\\\\c\\nd"} 1');
    expect(c.get({ v: 'a' })).toBe(1);
    expect(c.get({ w: 'a' })).toBe(1);
  });

  it('should keep counting correctly beyond the cache of rendered label sets', () => {
    const c = createMetrics().counter('many_total', 'many');
    for (let i = 0; i < 3000; i++) c.inc({ id: String(i % 1500) });
    for (let i = 0; i < 1500; i += 97) expect(c.get({ id: String(i) })).toBe(2);
  });

  it('should render gauges and histograms in the text format, and give back the registered metric for a known name', () => {
    const m = createMetrics();
    const g = m.gauge('outbox_pending', 'Pending grants');
    g.set(3, { kind: 'red_packet' });
    g.set(5, { kind: 'red_packet' });
    g.set(1);
    const h = m.histogram('send_seconds', 'Send latency', [0.1, 1]);
    h.observe(0.05, { to: 'pay' });
    h.observe(0.5, { to: 'pay' });
    expect(m.gauge('outbox_pending', 'other help')).toBe(g);
    expect(m.histogram('send_seconds', 'other help')).toBe(h);
    expect(m.counter('c_total', 'C')).toBe(m.counter('c_total', 'C'));
    expect(m.render()).toBe(
      [
        '# HELP outbox_pending Pending grants',
        '# TYPE outbox_pending gauge',
        'outbox_pending{kind="red_packet"} 5',
        'outbox_pending 1',
        '# HELP send_seconds Send latency',
        '# TYPE send_seconds histogram',
        'send_seconds_bucket{le="0.1",to="pay"} 1',
        'send_seconds_bucket{le="1",to="pay"} 2',
        'send_seconds_bucket{le="+Inf",to="pay"} 2',
        'send_seconds_sum{to="pay"} 0.55',
        'send_seconds_count{to="pay"} 2',
        '# HELP c_total C',
        '# TYPE c_total counter',
      ].join('\n') + '\n',
    );
  });
});
