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
});
