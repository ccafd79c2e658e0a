/**
 * The CLI's frame (src/cli/main.ts): every command explains itself, `--version`, a closed output pipe.
 */
import { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { buildProgram, cliVersion, exitQuietlyOnClosedPipe } from '../../src/cli/main';

function allCommands(cmd: Command, prefix = ''): { name: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const name = `${prefix}${c.name()}`;
    return [{ name, cmd: c }, ...allCommands(c, `${name} `)];
  });
}

describe('wechat-bot CLI', () => {
  it('should give every command and subcommand a description for --help', () => {
    const commands = allCommands(buildProgram());
    expect(commands.length).toBeGreaterThan(30);
    const missing = commands.filter(({ cmd }) => cmd.description().trim() === '').map(({ name }) => name);
    expect(missing).toEqual([]);
  });

  it('should print the version of package.json for --version', async () => {
    const written: string[] = [];
    const program = buildProgram()
      .exitOverride()
      .configureOutput({ writeOut: (s) => written.push(s) });
    await expect(program.parseAsync(['node', 'wechat-bot', '--version'])).rejects.toMatchObject({ code: 'commander.version' });
    expect(written.join('')).toBe(`${cliVersion()}\n`);
    expect(cliVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('should end with status 0 when the reader of its output goes away, and 1 on another write error', () => {
    const stream = new EventEmitter() as unknown as NodeJS.WriteStream;
    const codes: number[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      exitQuietlyOnClosedPipe(stream, (code) => void codes.push(code));
      stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      stream.emit('error', Object.assign(new Error('no space left'), { code: 'ENOSPC' }));
      expect(codes).toEqual([0, 1]);
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toContain('cannot write output: no space left');
    } finally {
      stderr.mockRestore();
    }
  });
});
