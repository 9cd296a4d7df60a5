// Runs the real `senseact` entry point as a child process.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/senseact.mjs');

export function senseact(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, ...env },
  });
}

/** Lines a human would read, without the Dawn driver warnings that native code prints. */
export function meaningfulLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: maxDynamic'));
}
