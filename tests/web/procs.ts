// Child processes for the web and terminal tests: the real `senseact` entry
// point, with a helper that waits for a line on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { BIN, ROOT } from '../helpers/cli.ts';

export interface Child {
  proc: ChildProcess;
  stderr: () => string;
  /** Resolves with the first match of `re` in stderr (or rejects after `timeoutMs`, or if the process exits). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startSenseact(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stderr: () => err,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = () => {
          const m = re.exec(err);
          if (m) return resolve(m);
          if (proc.exitCode !== null) return reject(new Error(`senseact ${args.join(' ')} exited (${proc.exitCode}) before ${re}: ${err.slice(-2000)}`));
          if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${re}: ${err.slice(-2000)}`));
          setTimeout(check, 50);
        };
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
