// One ensemble member's training in its own process (`train --members K --jobs J`,
// cli/trainMembers.ts): a JS training loop holds one core, so members train side by
// side only as processes. It receives its job once over the IPC channel, and reports
// its log lines, its progress and then its result or its error the same way.
import { CliError } from './errors.ts';
import { progressText, trainJob, type MemberJob, type WorkerMessage } from './trainJob.ts';

const send = (m: WorkerMessage) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));

process.once('message', async (job: MemberJob) => {
  let last = 0;
  try {
    const result = await trainJob(job, {
      log: (line) => void send({ type: 'log', line }),
      onProgress: (p) => {
        // At most five updates a second: a bar needs no more, and the channel stays quiet.
        const now = Date.now();
        if (now - last < 200 && p.step < p.steps) return;
        last = now;
        void send({ type: 'progress', step: p.step, steps: p.steps, what: progressText(p) });
      },
    });
    await send({ type: 'done', result });
  } catch (err) {
    await send({ type: 'error', message: (err as Error).message, code: err instanceof CliError ? err.code : 1 });
  }
  process.disconnect();
});
