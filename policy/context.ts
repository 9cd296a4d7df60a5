// What a policy carries from earlier in the episode: the motion history
// (history.ts) and the e-nose's clean-air baseline. Metal-oxide readings
// differ between sensors, days and rooms far more than an odour changes them
// (drift, humidity, background ethanol: FIELD.md), so the policy reads each
// channel relative to the first reading of the episode, as e-nose practice
// reads ΔR/R0 against clean air. One EpisodeContext serves training (fed a
// dataset's frames in order) and the runner (fed live frames): both see the
// same inputs for the same frames.
import { MASK_ORDER } from '../sensors/index.ts';
import type { PolicyExample } from './features.ts';
import { MotionHistory, positionCount } from './history.ts';

interface ContextConfig {
  proprio_history: { steps: number; every: number };
}
interface ContextLayout {
  proprio: { names: string[] };
  smell: { channels: string[] };
}

/** The first smell reading of the episode: the earliest valid row of the first frame that has one. */
export class SmellBaseline {
  private value: Float32Array | null = null;
  constructor(readonly channels: number) {}
  reset(): void {
    this.value = null;
  }
  observe(ex: Pick<PolicyExample, 'smell' | 'smell_valid'>): Float32Array | null {
    if (this.value || this.channels === 0) return this.value;
    const C = this.channels;
    for (let r = 0; r < ex.smell_valid.length; r++) {
      if (!ex.smell_valid[r]) continue;
      const row = ex.smell.subarray(r * C, (r + 1) * C);
      // A reading that is not a positive resistance cannot be a baseline; wait for the next.
      if (row.every((v) => Number.isFinite(v) && v > 0)) this.value = Float32Array.from(row);
      break;
    }
    return this.value;
  }
}

export class EpisodeContext {
  readonly history: MotionHistory;
  readonly baseline: SmellBaseline;
  private readonly out: Float32Array;
  private lastProprio: Float32Array | null = null;

  constructor(config: ContextConfig, layout: ContextLayout) {
    this.history = new MotionHistory(config.proprio_history.steps, config.proprio_history.every, positionCount(layout.proprio.names));
    this.baseline = new SmellBaseline(layout.smell.channels.length);
    this.out = new Float32Array(this.history.width);
  }

  reset(): void {
    this.history.reset();
    this.baseline.reset();
    this.lastProprio = null;
  }

  /** Adds this tick's context to `ex` (history and baseline); `fresh` allocates new arrays (training keeps every example's). */
  observe<T extends PolicyExample>(ex: T, fresh = false): T {
    if (this.history.width > 0) {
      const out = fresh ? new Float32Array(this.history.width) : this.out;
      // A tick without proprio (not yet received, stale, unhealthy) must not enter the history as
      // "the robot was at zero": the last known position stands in, and before any, nothing is recorded.
      const proprioMasked = ex.mask[MASK_ORDER.indexOf('proprio')] === 1;
      if (!proprioMasked) this.lastProprio = ex.proprio;
      if (this.lastProprio) ex.history = this.history.push(this.lastProprio, out);
      else ex.history = out.fill(0);
    }
    ex.smell_baseline = this.baseline.observe(ex) ?? undefined;
    return ex;
  }
}

/** Gives each dataset example its context, replaying every episode's frames in order. */
export function attachContext(examples: PolicyExample[], config: ContextConfig, layout: ContextLayout): void {
  const context = new EpisodeContext(config, layout);
  let episode = NaN;
  for (const ex of examples) {
    if (ex.episode !== episode) {
      context.reset();
      episode = ex.episode;
    }
    context.observe(ex, true);
  }
}
