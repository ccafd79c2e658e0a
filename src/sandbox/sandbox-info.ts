/**
 * The info file of a running sandbox, `data/sandbox.json`: its pid, the URLs of its stand-ins and of
 * its control endpoint, and the control token — so the CLI finds it. Written by `createBot` in sandbox
 * mode and by `npx wechat-bot sandbox`; mode 0600 (it holds the token), written with temp file +
 * rename so a reader never sees half a file.
 *
 * @example writeSandboxInfo(sandboxInfoFile('data'), { pid: process.pid, api, pay, control: control.url, token: control.token });
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SandboxInfo {
  pid: number;
  /** API stand-in (http). */
  api: string;
  /** Pay stand-in (https). */
  pay: string;
  /** The bot's webhook, when a bot runs the sandbox in-process. */
  webhook?: string;
  /** Control endpoint (http, 127.0.0.1) and its bearer token; see control-server.ts. */
  control?: string;
  token?: string;
}

/** `DATA_DIR/sandbox.json`. */
export function sandboxInfoFile(dataDir: string): string {
  return path.join(dataDir, 'sandbox.json');
}

/** Pay sandbox state beside it: `DATA_DIR/sandbox-state.json`. */
export function sandboxStateFile(dataDir: string): string {
  return path.join(dataDir, 'sandbox-state.json');
}

/** Writes the info file (mode 0600) through a temp file and rename. */
export function writeSandboxInfo(file: string, info: SandboxInfo): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** The info file when the process that wrote it is still alive; undefined otherwise (none, stale, unreadable). */
export function readSandboxInfo(file: string): SandboxInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxInfo;
    if (!Number.isInteger(info.pid) || typeof info.api !== 'string' || typeof info.pay !== 'string') return undefined;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/** Removes the info file if this process wrote it. */
export function removeSandboxInfo(file: string): void {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number };
    if (info.pid === process.pid) fs.unlinkSync(file);
  } catch {
    // nothing to remove
  }
}
