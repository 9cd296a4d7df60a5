// One training run as the CLI runs it, here or in an ensemble member's own
// process (cli/trainWorker.ts): the simulator renders the rendered view shifts,
// a refused config or dataset becomes a one-line CliError, and the summary a
// person reads afterwards.
import { z } from 'zod';
import { TrainRefusal, trainPolicy, type TrainProgress, type TrainResult } from '../policy/index.ts';
import { CliError } from './errors.ts';
import { simShiftRenderer } from './shifts.ts';

export interface MemberJob {
  data: string;
  out: string;
  config: Record<string, unknown>;
  backend: 'webgpu' | 'cpu' | 'auto';
  resume: boolean;
}

/** A result, with the process that trained it (an ensemble's members each have their own with --jobs > 1). */
export type MemberResult = TrainResult & { pid: number };

/** What a member's process tells the one that started it. */
export type WorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'progress'; step: number; steps: number; what: string }
  | { type: 'done'; result: MemberResult }
  | { type: 'error'; message: string; code: number };

export async function trainJob(job: MemberJob, hooks: { log: (line: string) => void; onProgress: (p: TrainProgress) => void }): Promise<MemberResult> {
  try {
    const result = await trainPolicy({ ...job, log: hooks.log, onProgress: hooks.onProgress, renderShifts: simShiftRenderer });
    return { ...result, pid: process.pid };
  } catch (err) {
    if (err instanceof z.ZodError) throw new CliError(`config: ${err.issues[0].path.join('.')}: ${err.issues[0].message}`, 2);
    if (err instanceof TrainRefusal) throw new CliError(err.message, 2);
    throw err;
  }
}

export function progressText(p: Pick<TrainProgress, 'loss' | 'valLoss'>): string {
  return `loss ${p.loss?.toFixed(4) ?? '…'}${p.valLoss !== null ? ` val ${p.valLoss.toFixed(4)}` : ''}`;
}

export function summaryLines(result: TrainResult, kind: 'multimodal' | 'nearest'): string[] {
  if (kind === 'nearest') return [`stored ${result.examples.train} frames for the nearest-neighbour baseline in ${result.seconds.toFixed(1)} s`, `wrote ${result.checkpoint}, ${result.config}`];
  const lines = [
    `trained ${result.steps} steps on ${result.backend} in ${result.seconds.toFixed(1)} s (${((result.seconds * 1000) / Math.max(1, result.steps - result.resumedFrom)).toFixed(0)} ms/step)`,
    `final loss ${result.finalLoss.toFixed(4)}${result.valLoss !== null ? `, validation ${result.valLoss.toFixed(4)}` : ''} (L1 on normalized actions)`,
  ];
  if (result.influence) {
    const parts = Object.entries(result.influence).map(([m, v]) => `${m} ${v.toFixed(3)}`);
    lines.push(`modality influence (mean |Δ| of the normalized actions when one is masked): ${parts.join(', ')}`);
  }
  lines.push(`wrote ${result.checkpoint}, ${result.config}, ${result.curve}`);
  return lines;
}
