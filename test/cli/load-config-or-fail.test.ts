import path from 'node:path';
import { loadConfigOrFail, loadConfigOrReport } from '../../src/cli/load-config-or-fail';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'config');
const at = (name: string) => ({ configDir: path.join(FIXTURES, name), viewsDir: path.join(FIXTURES, name) });

describe('loadConfigOrFail', () => {
  it('should return the loaded config of a valid folder', () => {
    expect(loadConfigOrFail(at('basic')).rules.list.length).toBeGreaterThan(0);
  });

  it('should throw naming the folder and every issue of an invalid one', () => {
    const bad = at('bad-regex');
    expect(() => loadConfigOrFail(bad)).toThrow(new RegExp(`^the config in ${bad.configDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid:\\n.*rules\\.yaml`));
  });
});

describe('loadConfigOrReport', () => {
  it('should report each error and the fix on stderr and return undefined for an invalid folder', () => {
    const err: string[] = [];
    const out: string[] = [];
    const bad = at('bad-regex');
    expect(loadConfigOrReport({ dir: bad.configDir, views: bad.viewsDir }, { out: (l) => out.push(l), err: (l) => err.push(l) })).toBeUndefined();
    expect(out).toEqual([]);
    expect(err.slice(0, -1).every((l) => l.startsWith('error: ') && l.includes('rules.yaml'))).toBe(true);
    expect(err.length).toBeGreaterThan(1);
    expect(err[err.length - 1]).toBe('the config is invalid; fix it first (see check-config)');
  });

  it('should return the config of a valid folder and write nothing', () => {
    const lines: string[] = [];
    const ok = at('basic');
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(loadConfigOrReport({ dir: ok.configDir, views: ok.viewsDir }, io)?.version).toMatch(/\S/);
    expect(lines).toEqual([]);
  });
});
