// The Synchronizer aligns streams only when a frame is needed: for a tick
// time t it takes, per stream, the newest sample known at t (captured and
// received at or before t), its age, an optional history window for slow
// streams (smell), and a mask bit when the slot is missing, stale or its
// stream unhealthy. The frame is a pure function of what was pushed and of t:
// the same inputs give the same frame.
import { nsToS } from './clock.ts';
import { levelValue, type Level } from './health.ts';
import type { Stream } from './stream.ts';
import type { Modality, Sample } from './schemas.ts';

export type MaskReason = 'ok' | 'missing' | 'stale' | 'unhealthy';

export interface FrameSlot {
  stream: string;
  modality: Modality;
  /** The newest sample known at t, or null. Never captured or received after t. */
  sample: Sample | null;
  /** t − capture time of `sample`, seconds (null when missing). */
  age_s: number | null;
  /** True when the policy must not trust this slot. */
  masked: boolean;
  reason: MaskReason;
  /** The stream's health level at t. */
  health: Level;
  health_message: string;
  /** For history streams: up to `history` samples, oldest first, ending with `sample`. */
  history: Sample[];
}

export interface Frame {
  t_ns: number;
  slots: Record<string, FrameSlot>;
  /** Names of the masked slots, in stream order. */
  masked: string[];
}

export interface SlotOptions {
  /** Older than this (s) → masked 'stale'. Default: the stream's stale_after_s. */
  max_age_s?: number;
  /** Samples of history to attach (smell default 8, others 1). */
  history?: number;
  /** History samples older than this (s) are left out. Default: unlimited. */
  history_max_age_s?: number;
  /** Health at or above this level masks the slot. Default ERROR (STALE included). */
  mask_at?: Level;
}

export interface SynchronizerOptions {
  /** Per-stream overrides, by stream name. */
  slots?: Record<string, SlotOptions>;
}

/** Default history length by modality: smell is slow and lags, so the policy sees a window. */
export const DEFAULT_HISTORY: Record<Modality, number> = { camera: 1, tactile: 1, smell: 8, proprio: 1, action: 1 };

export class Synchronizer {
  readonly streams: readonly Stream[];
  private readonly options: SynchronizerOptions;

  constructor(streams: Stream[], options: SynchronizerOptions = {}) {
    const names = new Set<string>();
    for (const s of streams) {
      if (names.has(s.name)) throw new Error(`Synchronizer: stream '${s.name}' given twice`);
      names.add(s.name);
    }
    this.streams = [...streams];
    this.options = options;
  }

  frame(tNs: number): Frame {
    const slots: Record<string, FrameSlot> = {};
    const masked: string[] = [];
    for (const stream of this.streams) {
      const opt = this.options.slots?.[stream.name] ?? {};
      const maxAge = opt.max_age_s ?? stream.config.stale_after_s;
      const maskAt = levelValue(opt.mask_at ?? 'ERROR');
      const historyLen = Math.max(1, opt.history ?? DEFAULT_HISTORY[stream.modality]);
      const health = stream.health(tNs);
      const known = stream.latestAt(tNs);
      let reason: MaskReason = 'ok';
      let age: number | null = null;
      if (!known) reason = 'missing';
      else {
        age = nsToS(tNs - known.sample.t_capture_ns);
        if (age > maxAge) reason = 'stale';
        else if (levelValue(health.level) >= maskAt) reason = 'unhealthy';
      }
      const slot: FrameSlot = {
        stream: stream.name,
        modality: stream.modality,
        sample: known?.sample ?? null,
        age_s: age,
        masked: reason !== 'ok',
        reason,
        health: health.level,
        health_message: health.message,
        history: known ? stream.historyAt(tNs, historyLen, opt.history_max_age_s) : [],
      };
      slots[stream.name] = slot;
      if (slot.masked) masked.push(stream.name);
    }
    return { t_ns: tNs, slots, masked };
  }
}
