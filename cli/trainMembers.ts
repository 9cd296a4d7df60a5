// An ensemble's members trained side by side (`train --members K --jobs J`):
// each in its own process (cli/trainWorker.ts), J at a time. On the CPU backend
// training is a JS loop that holds one core, so on a 2-core machine two members
// take the time of one. On WebGPU over a software driver (lavapipe) each
// member's driver gets one thread (LP_NUM_THREADS=1) and the first member
// tunes the kernels alone before the others start (memberEnv).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';
import { progressBars } from './progress.ts';
import { summaryLines, type MemberJob, type MemberResult, type WorkerMessage } from './trainJob.ts';

const WORKER = fileURLToPath(new URL('./trainWorker.ts', import.meta.url));
// The worker is TypeScript: it loads through tsx, as bin/senseact.mjs does, found from here rather than from the working directory.
const TSX = import.meta.resolve('tsx');

/**
 * What a member's process adds to the environment (a variable the user set is
 * kept). LP_NUM_THREADS=1: lavapipe spreads each dispatch over every core,
 * and J processes that each do so contend (227–235 ms a find-smell step
 * each); with one thread each, two train at 78–86 ms a step where one alone
 * takes 68 (docs/results.md, "Six members on WebGPU"). And
 * SENSEACT_TUNE=tune: training K members is long enough that tuning the
 * kernels first pays (policy/train.ts tunes before the first step, so a
 * member's checkpoint does not depend on whether it tuned); on the CPU backend
 * it changes nothing.
 */
export function memberEnv(parallel: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(parallel > 1 && env.LP_NUM_THREADS === undefined ? { LP_NUM_THREADS: '1' } : {}),
    ...(env.SENSEACT_TUNE === undefined ? { SENSEACT_TUNE: 'tune' } : {}),
  };
}

/** `parallel`: how many at once, at most jobs.length. */
export async function trainMembers(jobs: MemberJob[], parallel: number, kind: 'multimodal' | 'nearest', quiet: boolean): Promise<MemberResult[]> {
  const bars = progressBars();
  const log = (line: string) => {
    if (!quiet) bars.log(line);
  };
  const results: MemberResult[] = [];
  const running = new Set<ChildProcess>();
  const env = memberEnv(parallel);
  // The other lanes wait for the first member's first step: by then it has
  // tuned (and saved) every kernel choice, and they find them all cached.
  let firstStepped = () => {};
  const firstStep = new Promise<void>((resolve) => (firstStepped = resolve));
  let next = 0;
  let failure: Error | null = null;

  const runMember = (i: number) =>
    new Promise<MemberResult>((resolve, reject) => {
      const name = `member ${i + 1}/${jobs.length}`;
      const bar = bars.bar(`train ${name}`);
      const child = fork(WORKER, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env });
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
        else if (m.type === 'progress') {
          bar.update(m.step, m.steps, m.what);
          firstStepped();
        }
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

  const lane = async (l: number) => {
    if (l > 0 && env.SENSEACT_TUNE === 'tune' && jobs[0].backend !== 'cpu') await firstStep;
    while (!failure && next < jobs.length) {
      const i = next++;
      try {
        const result = await runMember(i).finally(firstStepped);
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
    await Promise.all(Array.from({ length: parallel }, (_, l) => lane(l)));
  } finally {
    bars.stop();
  }
  if (failure) throw failure;
  return results;
}
