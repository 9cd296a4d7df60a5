// An ensemble's members trained side by side (`train --members K --jobs J`):
// each in its own process (cli/trainWorker.ts), J at a time. On the CPU backend
// training is a JS loop that holds one core, so on a 2-core machine two members
// take the time of one: six members of 1000 steps in 465 s here, inside the
// 10-minute bound (727 s on WebGPU over lavapipe, whose threads share the cores).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';
import { progressBars } from './progress.ts';
import { summaryLines, type MemberJob, type MemberResult, type WorkerMessage } from './trainJob.ts';

const WORKER = fileURLToPath(new URL('./trainWorker.ts', import.meta.url));
// The worker is TypeScript: it loads through tsx, as bin/senseact.mjs does, found from here rather than from the working directory.
const TSX = import.meta.resolve('tsx');

/** `parallel`: how many at once, at most jobs.length. */
export async function trainMembers(jobs: MemberJob[], parallel: number, kind: 'multimodal' | 'nearest', quiet: boolean): Promise<MemberResult[]> {
  const bars = progressBars();
  const log = (line: string) => {
    if (!quiet) bars.log(line);
  };
  const results: MemberResult[] = [];
  const running = new Set<ChildProcess>();
  let next = 0;
  let failure: Error | null = null;

  const runMember = (i: number) =>
    new Promise<MemberResult>((resolve, reject) => {
      const name = `member ${i + 1}/${jobs.length}`;
      const bar = bars.bar(`train ${name}`);
      const child = fork(WORKER, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      running.add(child);
      // Native code (Dawn) writes warnings to stderr; kept only to explain a process that dies without a word.
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      let settled = false;
      const settle = (err: Error | null, result?: MemberResult) => {
        if (settled) return;
        settled = true;
        bar.stop();
        running.delete(child);
        if (child.exitCode === null) child.kill();
        if (err) reject(err);
        else resolve(result!);
      };
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'log') log(`${name}: ${m.line}`);
        else if (m.type === 'progress') bar.update(m.step, m.steps, m.what);
        else if (m.type === 'done') settle(null, m.result);
        else settle(new CliError(`${name} (${jobs[i].out}): ${m.message}`, m.code));
      });
      child.on('error', (err) => settle(new CliError(`${name}: could not start its training process: ${err.message}`)));
      child.on('exit', (code, signal) => {
        const last = stderr.trim().split('\n').filter((l) => !l.startsWith('Warning: maxDynamic')).slice(-3).join(' | ');
        settle(new CliError(`${name} (${jobs[i].out}): its training process ended (${signal ?? `exit code ${code}`}) before finishing${last ? `: ${last}` : ''}`));
      });
      child.send(jobs[i]);
    });

  const lane = async () => {
    while (!failure && next < jobs.length) {
      const i = next++;
      try {
        const result = await runMember(i);
        results[i] = result;
        for (const line of summaryLines(result, kind)) log(`member ${i + 1}/${jobs.length}: ${line}`);
      } catch (err) {
        // The first failure stops the rest; members already written stay, and a rerun resumes the others.
        failure ??= err as Error;
        for (const c of running) c.kill();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, lane));
  } finally {
    bars.stop();
  }
  if (failure) throw failure;
  return results;
}
