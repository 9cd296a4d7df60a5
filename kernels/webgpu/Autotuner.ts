// The kernel autotuner. For each problem key — (op, dtype, layouts, dims
// rounded up to powers of two, batch capped) on one adapter — it runs every
// candidate once against a CPU reference (a wrong or uncompilable candidate
// is rejected, never timed), times the survivors (GPU timestamps when the
// adapter has them, else wall clock around onSubmittedWorkDone, many runs
// per submission so short kernels rise above the timer's resolution), keeps
// the fastest by median, and never prefers a candidate that is not faster
// than the hand-set default. Choices persist in a TuneCache.
//
// Modes: 'off' (heuristics only), 'cached' (use stored choices, never time
// anything: deterministic, for CI), 'tune' (also tune unseen keys at the next
// sync or readback, and store them).
import { TuneCache, checksum, type AdapterFingerprint, type TuneEntry, type TuneStore } from './tuneCache.ts';
import { choiceId, parseChoiceId, type MatmulChoice, type MatmulVariant } from './variants.ts';

export type TuneMode = 'off' | 'cached' | 'tune';
export const TUNE_MODES: readonly TuneMode[] = ['off', 'cached', 'tune'];

/** SENSEACT_TUNE=off|cached|tune; 'cached' when unset. */
export function tuneModeFromEnv(env: Record<string, string | undefined> = typeof process !== 'undefined' ? process.env : {}): TuneMode {
  const v = env.SENSEACT_TUNE?.trim().toLowerCase();
  if (!v) return 'cached';
  if ((TUNE_MODES as string[]).includes(v)) return v as TuneMode;
  throw new Error(`SENSEACT_TUNE must be one of ${TUNE_MODES.join(', ')} (got '${env.SENSEACT_TUNE}')`);
}

export type TuneOp = 'matmul' | 'conv';

export interface TuneOptions {
  mode?: TuneMode;
  /** Where choices persist; null keeps them in memory only. */
  store?: TuneStore | null;
  /** 'auto' uses timestamp queries when the adapter has them. */
  timer?: 'auto' | 'wall';
  /** Extra candidates (tests inject a deliberately wrong one); they change the candidate-set checksum. */
  extraMatmulVariants?: MatmulVariant[];
  /** Timed samples per finalist (default 7). */
  samples?: number;
  /** Target GPU milliseconds per timed submission (default 4). */
  targetMs?: number;
  warn?: (message: string) => void;
  log?: (message: string) => void;
}

/** One problem to tune, built by the backend from the shape it saw. */
export interface TuneJob {
  op: TuneOp;
  key: string;
  shape: string;
  candidates: MatmulChoice[];
  fallback: MatmulChoice;
  reference(): Float32Array;
  /** Compiles, runs once and reads the output; throws on a shader or validation error. */
  run(choice: MatmulChoice): Promise<Float32Array>;
  /** Milliseconds per run, `reps` runs in one submission. */
  time(choice: MatmulChoice, reps: number): Promise<number>;
  readonly timer: 'timestamp' | 'wall';
  dispose(): void;
}

export interface TuneReport {
  key: string;
  shape: string;
  choice: string;
  default: string;
  ms: number;
  defaultMs: number;
  /** defaultMs / ms. */
  speedup: number;
  timed: number;
  rejected: string[];
}

const TUNER_VERSION = 'tuner-2';
/**
 * A candidate must beat the default's median by this factor to replace it:
 * measured run to run spread on a loaded 2-core machine is several percent.
 */
const MARGIN = 0.93;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Norm-relative agreement: max|got − want| ≤ rtol · max(1, max|want|), every element finite. */
export function agrees(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-3): string | null {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return `element ${i} is ${got[i]}`;
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  return worst <= rtol * scale ? null : `max error ${worst.toExponential(2)} > ${(rtol * scale).toExponential(2)}`;
}

export class Autotuner {
  readonly mode: TuneMode;
  readonly cache: TuneCache;
  /** Counters the tests read: timed runs (must stay 0 in 'cached' mode), cache hits. */
  readonly stats = { timings: 0, verifications: 0, hits: 0, misses: 0 };
  /** Every problem tuned by this tuner, in order. */
  readonly reports: TuneReport[] = [];
  private readonly checksums: Record<TuneOp, string>;
  private readonly memo = new Map<string, MatmulChoice | null>();
  private readonly pending = new Map<string, () => TuneJob>();
  private readonly done = new Set<string>();
  private readonly warn: (m: string) => void;
  private readonly log: (m: string) => void;

  constructor(
    adapter: AdapterFingerprint,
    readonly catalogs: Record<TuneOp, readonly MatmulVariant[]>,
    /** Text that changes when any candidate's code changes (its WGSL). */
    candidateSources: Record<TuneOp, string>,
    readonly options: TuneOptions = {},
  ) {
    this.mode = options.mode ?? tuneModeFromEnv();
    this.warn = options.warn ?? ((m) => console.warn(m));
    this.log = options.log ?? (() => {});
    this.checksums = {
      matmul: checksum(`${TUNER_VERSION}\n${candidateSources.matmul}`),
      conv: checksum(`${TUNER_VERSION}\n${candidateSources.conv}`),
    };
    this.cache = new TuneCache(adapter, this.mode === 'off' ? null : (options.store ?? null), this.warn);
  }

  checksum(op: TuneOp): string {
    return this.checksums[op];
  }

  get hasPending(): boolean {
    return this.mode === 'tune' && this.pending.size > 0;
  }

  /** The stored choice for a key, or null (untuned, or mode 'off'). Never times anything. */
  lookup(op: TuneOp, key: string): MatmulChoice | null {
    if (this.mode === 'off') return null;
    const memo = this.memo.get(key);
    if (memo !== undefined) return memo;
    const entry = this.cache.get(key, this.checksums[op]);
    const choice = entry ? parseChoiceId(entry.choice, this.catalogs[op]) : null;
    if (choice) this.stats.hits++;
    else this.stats.misses++;
    this.memo.set(key, choice);
    return choice;
  }

  /** In 'tune' mode, remembers an untuned key so the next sync or readback tunes it. */
  want(key: string, makeJob: () => TuneJob): void {
    if (this.mode !== 'tune' || this.done.has(key) || this.pending.has(key)) return;
    this.pending.set(key, makeJob);
  }

  /** Tunes every pending key (mode 'tune' only) and saves the cache. */
  async tunePending(): Promise<TuneReport[]> {
    if (this.mode !== 'tune') return [];
    const reports: TuneReport[] = [];
    while (this.pending.size > 0) {
      // Matmuls first: the im2col path of a convolution runs a matmul, which
      // should be tuned before the convolution's candidates are compared.
      const entries = [...this.pending.entries()];
      const [key, make] = entries.find(([k]) => k.startsWith('matmul')) ?? entries[0];
      this.pending.delete(key);
      this.done.add(key);
      const job = make();
      try {
        reports.push(await this.tune(job));
      } finally {
        job.dispose();
      }
    }
    this.cache.save(Object.values(this.checksums));
    return reports;
  }

  /** Verifies, times and chooses for one problem; stores the choice. */
  async tune(job: TuneJob): Promise<TuneReport> {
    if (this.mode !== 'tune') throw new Error(`tuning needs mode 'tune' (this tuner is '${this.mode}')`);
    const want = job.reference();
    const rejected: string[] = [];
    const verify = async (list: readonly MatmulChoice[]): Promise<MatmulChoice[]> => {
      const ok: MatmulChoice[] = [];
      for (const c of list) {
        let got: Float32Array;
        try {
          this.stats.verifications++;
          got = await job.run(c);
        } catch (err) {
          rejected.push(`${choiceId(c)}: ${(err as Error).message.split('\n')[0]}`);
          continue;
        }
        const why = agrees(got, want);
        if (why) rejected.push(`${choiceId(c)}: wrong result (${why})`);
        else ok.push(c);
      }
      return ok;
    };
    const defId = choiceId(job.fallback);
    const isDef = (c: MatmulChoice) => choiceId(c) === defId;
    // Phase 1: every kernel without split-K (and the default as it is).
    const valid = await verify(job.candidates.filter((c) => c.splits === 1 || isDef(c)));
    const def = valid.find(isDef) ?? null;
    if (!def) this.warn(`[senseact tune] ${job.key}: the default kernel ${defId} failed verification; choosing among the others`);
    if (valid.length === 0 && !job.candidates.some((c) => c.splits > 1)) throw new Error(`${job.key}: no candidate computed the right result (${rejected.join('; ')})`);

    // Calibrate repetitions per submission on the default (or first valid).
    const probe = def ?? valid[0] ?? job.fallback;
    const once = await this.timeOf(job, probe, 1);
    const reps = Math.max(1, Math.min(64, Math.round((this.options.targetMs ?? 4) / Math.max(once, 1e-3))));
    const first = new Map<MatmulChoice, number>();
    for (const c of valid) first.set(c, await this.timeOf(job, c, reps));
    // Phase 2: split-K counts for the three fastest kernels only.
    const top = [...new Set([...valid].sort((a, b) => first.get(a)! - first.get(b)!).map((c) => c.variant.id))].slice(0, 3);
    const splitOnes = job.candidates.filter((c) => c.splits > 1 && !isDef(c) && top.includes(c.variant.id));
    for (const c of await verify(splitOnes)) {
      valid.push(c);
      first.set(c, await this.timeOf(job, c, reps));
    }
    if (valid.length === 0) throw new Error(`${job.key}: no candidate computed the right result (${rejected.join('; ')})`);
    // Stage 2: the five fastest and the default, interleaved, several samples each.
    const finalists = [...valid].sort((a, b) => first.get(a)! - first.get(b)!).slice(0, 5);
    if (def && !finalists.includes(def)) finalists.push(def);
    const samples = new Map<MatmulChoice, number[]>(finalists.map((c) => [c, []]));
    const rounds = this.options.samples ?? 7;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...finalists].reverse() : finalists;
      for (const c of order) samples.get(c)!.push(await this.timeOf(job, c, reps));
    }
    const med = new Map([...samples].map(([c, xs]) => [c, median(xs)]));
    let best = finalists.reduce((a, b) => (med.get(b)! < med.get(a)! ? b : a));
    const defMs = def ? med.get(def)! : NaN;
    if (def && best !== def) {
      // Replace the default only if the winner's median is clearly lower and it
      // was faster in most rounds, each round timing both close together (a
      // load spike on a shared machine then cannot crown a slower kernel).
      const ours = samples.get(best)!;
      const theirs = samples.get(def)!;
      const wins = ours.filter((t, r) => t < theirs[r]).length;
      if (!(med.get(best)! < MARGIN * defMs) || wins < Math.ceil(0.6 * rounds)) best = def;
    }
    const entry: TuneEntry = {
      choice: choiceId(best),
      default: defId,
      ms: med.get(best)!,
      defaultMs: defMs,
      candidates: this.checksums[job.op],
      timed: valid.length,
      rejected,
      shape: job.shape,
      timer: job.timer,
      at: new Date().toISOString(),
    };
    this.cache.set(job.key, entry);
    this.memo.set(job.key, best);
    this.done.add(job.key);
    const report: TuneReport = {
      key: job.key,
      shape: job.shape,
      choice: entry.choice,
      default: defId,
      ms: entry.ms,
      defaultMs: defMs,
      speedup: defMs / entry.ms,
      timed: valid.length,
      rejected,
    };
    this.reports.push(report);
    this.log(`${job.key} (${job.shape}): ${entry.choice} ${entry.ms.toFixed(3)} ms vs default ${defId} ${defMs.toFixed(3)} ms${rejected.length ? `, rejected ${rejected.length}` : ''}`);
    return report;
  }

  /** Keys looked up so far (every shape this process ran), in first-seen order. */
  seenKeys(): string[] {
    return [...this.memo.keys()];
  }

  private async timeOf(job: TuneJob, c: MatmulChoice, reps: number): Promise<number> {
    this.stats.timings++;
    return job.time(c, reps);
  }
}
