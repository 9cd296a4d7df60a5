// A Stream: one sensor's samples at its native rate, kept in a time-bounded
// ring buffer ordered by capture time, plus health checks over them.
//
// `push()` never throws on bad input: a malformed sample (zod), a bad capture
// timestamp (zero, in the future, going backwards, repeated) is rejected with
// an error naming the field, counted, and shows up in `health()`.
import { z } from 'zod';
import { systemClock, sToNs, nsToS, type Clock } from './clock.ts';
import { capLevel, rollup, type CheckResult, type Level, type Verdict } from './health.ts';
import { isTactileTaxels, modalityOf, parseSample, SampleError, type Modality, type Sample } from './schemas.ts';

/** Nominal rates when a stream's config does not say (ARCHITECTURE.md: typical rates). */
export const DEFAULT_RATE_HZ: Record<Modality, number> = {
  camera: 30,
  tactile: 100,
  smell: 2,
  proprio: 100,
  action: 50,
};

/** Physical plausibility bounds; a value outside is a broken sensor or a units bug. */
export const Ranges = z.object({
  /** Largest |force| on one taxel axis, N (uSkin cells saturate at ~3 N; generous). */
  max_abs_force_n: z.number().positive().default(50),
  /** Sensirion VOC and NOx indices live in 1..500. */
  index_min: z.number().default(1),
  index_max: z.number().default(500),
  /** BME688 / SGP4x operating range, °C. */
  temperature_c: z.tuple([z.number(), z.number()]).default([-40, 85]),
  max_abs_joint_velocity: z.number().positive().default(20),
  max_abs_effort: z.number().positive().default(1000),
  max_gripper_opening_m: z.number().positive().default(0.3),
  max_abs_linear_m_s: z.number().positive().default(2),
  max_abs_angular_rad_s: z.number().positive().default(6.5),
});
export type Ranges = z.infer<typeof Ranges>;

/**
 * How a stream is watched. Rate bounds follow ROS diagnostic_updater's
 * FrequencyStatus: the measured rate must lie in
 * [min_hz·(1−tolerance), max_hz·(1+tolerance)].
 */
export const StreamConfig = z.object({
  name: z.string().min(1),
  expected_hz: z.number().positive(),
  min_hz: z.number().positive(),
  max_hz: z.number().positive(),
  rate_tolerance: z.number().min(0).max(1),
  /** Below expected·this fraction the rate verdict is ERROR rather than WARN. */
  rate_error_fraction: z.number().min(0).max(1),
  /** Rate is measured over the samples captured in the last window. */
  rate_window_s: z.number().positive(),
  /** How much capture time the ring buffer keeps. */
  buffer_s: z.number().positive(),
  /** Hard cap on buffered samples (memory bound whatever the rate). */
  max_samples: z.number().int().positive(),
  /** Age (now − newest capture) beyond which the stream is STALE. */
  stale_after_s: z.number().positive(),
  /** Identical data for this long → frozen (null: check off). */
  frozen_after_s: z.number().positive().nullable(),
  /** |Δcapture − Δreceive| between consecutive samples beyond this → clock jump. */
  jump_tolerance_s: z.number().positive(),
  /** Capture time may lead receive time / now by at most this (clock skew). */
  future_tolerance_s: z.number().min(0),
  /** How long a rejected or suspicious sample keeps its check raised. */
  event_hold_s: z.number().positive(),
  /** A sensor still warming up after this long is an ERROR (null: no limit). */
  warmup_timeout_s: z.number().positive().nullable(),
  ranges: Ranges,
});
export type StreamConfig = z.infer<typeof StreamConfig>;
export type StreamConfigInput = Partial<Omit<StreamConfig, 'ranges'>> & { ranges?: Partial<Ranges> };

/**
 * A full config for stream `name` from its modality's defaults plus overrides.
 * Frozen-data checks are on for camera (3 s) and smell (10 s) only: a resting
 * tactile pad or a still arm legitimately repeats identical values, and a
 * simulated camera in a static scene renders identical frames, so frozen is a
 * WARN (degrade), never an ERROR (which would stop a robot that is merely still).
 */
export function streamConfig(name: string, overrides: StreamConfigInput = {}): StreamConfig {
  const modality = modalityOf(name);
  if (!modality) throw new SampleError(name, ['stream'], `stream name '${name}' does not start with a modality`);
  const hz = overrides.expected_hz ?? DEFAULT_RATE_HZ[modality];
  const period = 1 / hz;
  const frozen = modality === 'camera' ? 3 : modality === 'smell' ? 10 : null;
  const rateWindow = overrides.rate_window_s ?? Math.max(2, 10 * period);
  const buffer = overrides.buffer_s ?? Math.max(5, rateWindow, 20 * period);
  const merged = {
    name,
    expected_hz: hz,
    min_hz: hz,
    max_hz: hz,
    rate_tolerance: 0.1,
    rate_error_fraction: 0.5,
    rate_window_s: rateWindow,
    buffer_s: buffer,
    max_samples: Math.ceil(buffer * hz * 4) + 16,
    stale_after_s: 2 * period,
    frozen_after_s: frozen,
    jump_tolerance_s: Math.max(0.5, 2 * period),
    future_tolerance_s: 0.05,
    event_hold_s: Math.max(2, 4 * period),
    warmup_timeout_s: modality === 'smell' ? 600 : null,
    ...overrides,
    ranges: Ranges.parse(overrides.ranges ?? {}),
  };
  const r = StreamConfig.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SampleError(name, ['config', ...(issue?.path ?? []).map(String)], issue?.message ?? 'invalid');
  }
  if (r.data.min_hz > r.data.max_hz) throw new SampleError(name, ['config', 'min_hz'], `min_hz ${r.data.min_hz} > max_hz ${r.data.max_hz}`);
  return r.data;
}

type EventKind = 'malformed' | 'timestamp' | 'jump' | 'range' | 'seq_gap' | 'duplicate';

interface HealthEvent {
  t_ns: number;
  kind: EventKind;
  message: string;
}

export interface StreamCounters {
  accepted: number;
  rejected: number;
  malformed: number;
  bad_timestamp: number;
  duplicate: number;
  out_of_range: number;
  clock_jumps: number;
  /** Samples the source numbered but we never saw (gaps in seq). */
  lost_upstream: number;
}

export interface StreamHealth extends Verdict {
  stream: string;
  t_ns: number;
  rate_hz: number | null;
  age_s: number | null;
  counters: StreamCounters;
}

export type PushResult = { ok: true; sample: Sample } | { ok: false; error: SampleError };

/** Samples ordered by capture time with O(log n) lookup: the ring buffer. */
class SampleRing {
  private items: Sample[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }
  at(i: number): Sample {
    return this.items[this.head + i];
  }
  last(): Sample | undefined {
    return this.length ? this.items[this.items.length - 1] : undefined;
  }
  push(s: Sample): void {
    this.items.push(s);
  }
  /** Drops samples captured before `tNs` and keeps at most `max`. */
  prune(tNs: number, max: number): void {
    while (this.length > 0 && (this.items[this.head].t_capture_ns < tNs || this.length > max)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  /** Index of the last sample with capture ≤ t, or -1. */
  indexAtOrBefore(tNs: number): number {
    let lo = 0;
    let hi = this.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).t_capture_ns <= tNs) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
  /** Index of the first sample with capture > t (length if none). */
  indexAfter(tNs: number): number {
    return this.indexAtOrBefore(tNs) + 1;
  }
}

/** A cheap content fingerprint for the frozen-data check. */
function fingerprint(sample: Sample): number {
  const d = sample.data as Record<string, unknown>;
  let bytes: Uint8Array | null = null;
  if (d.data instanceof Uint8Array) bytes = d.data;
  else if (d.forces instanceof Float32Array) bytes = new Uint8Array(d.forces.buffer, d.forces.byteOffset, d.forces.byteLength);
  else if (d.image && (d.image as { data: Uint8Array }).data instanceof Uint8Array) bytes = (d.image as { data: Uint8Array }).data;
  let h = 0x811c9dc5;
  if (bytes) {
    // FNV-1a over every byte: a stuck camera repeats the exact buffer.
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return (h ^ bytes.length) >>> 0;
  }
  const text = JSON.stringify(d);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function rangeViolation(modality: Modality, sample: Sample, r: Ranges): string | null {
  const d = sample.data as unknown;
  switch (modality) {
    case 'tactile': {
      const t = d as Parameters<typeof isTactileTaxels>[0];
      if (!isTactileTaxels(t)) return null;
      for (let i = 0; i < t.forces.length; i++) {
        if (Math.abs(t.forces[i]) > r.max_abs_force_n) {
          return `data.forces.${i} = ${t.forces[i].toFixed(2)} N exceeds ±${r.max_abs_force_n} N`;
        }
      }
      return null;
    }
    case 'smell': {
      const s = d as { units: string[]; values: number[]; temperature_c: number };
      for (let i = 0; i < s.values.length; i++) {
        const u = s.units[i];
        const v = s.values[i];
        if ((u === 'voc_index' || u === 'nox_index') && (v < r.index_min || v > r.index_max)) {
          return `data.values.${i} = ${v} outside the ${u} range ${r.index_min}..${r.index_max}`;
        }
        if ((u === 'ohm' && v <= 0) || (u === 'ppm' && v < 0)) return `data.values.${i} = ${v} ${u} is impossible`;
      }
      const [lo, hi] = r.temperature_c;
      if (s.temperature_c < lo || s.temperature_c > hi) return `data.temperature_c = ${s.temperature_c} outside ${lo}..${hi} °C`;
      return null;
    }
    case 'proprio': {
      const p = d as { velocity: number[]; effort: number[]; gripper_opening: number };
      const v = p.velocity.findIndex((x) => Math.abs(x) > r.max_abs_joint_velocity);
      if (v >= 0) return `data.velocity.${v} = ${p.velocity[v]} exceeds ±${r.max_abs_joint_velocity}`;
      const e = p.effort.findIndex((x) => Math.abs(x) > r.max_abs_effort);
      if (e >= 0) return `data.effort.${e} = ${p.effort[e]} exceeds ±${r.max_abs_effort}`;
      if (p.gripper_opening > r.max_gripper_opening_m) return `data.gripper_opening = ${p.gripper_opening} m exceeds ${r.max_gripper_opening_m} m`;
      return null;
    }
    case 'action': {
      const a = d as { linear: number[]; angular: number[] };
      const l = a.linear.findIndex((x) => Math.abs(x) > r.max_abs_linear_m_s);
      if (l >= 0) return `data.linear.${l} = ${a.linear[l]} m/s exceeds ±${r.max_abs_linear_m_s}`;
      const g = a.angular.findIndex((x) => Math.abs(x) > r.max_abs_angular_rad_s);
      if (g >= 0) return `data.angular.${g} = ${a.angular[g]} rad/s exceeds ±${r.max_abs_angular_rad_s}`;
      return null;
    }
    default:
      return null;
  }
}

const fmtS = (s: number): string => (Math.abs(s) < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`);
const fmtHz = (hz: number): string => `${hz < 10 ? hz.toFixed(2) : hz.toFixed(1)} Hz`;

export class Stream {
  readonly name: string;
  readonly modality: Modality;
  readonly config: StreamConfig;
  private readonly clock: Clock;
  private readonly ring = new SampleRing();
  private events: HealthEvent[] = [];
  private lastAccepted: Sample | null = null;
  private firstCaptureNs: number | null = null;
  private lastFingerprint = 0;
  private unchangedSinceNs = 0;
  private warmupStartNs: number | null = null;
  readonly counters: StreamCounters = {
    accepted: 0,
    rejected: 0,
    malformed: 0,
    bad_timestamp: 0,
    duplicate: 0,
    out_of_range: 0,
    clock_jumps: 0,
    lost_upstream: 0,
  };

  constructor(name: string, options: { config?: StreamConfigInput; clock?: Clock } = {}) {
    this.config = streamConfig(name, options.config);
    this.name = name;
    this.modality = modalityOf(name)!;
    this.clock = options.clock ?? systemClock;
  }

  /** Validates and buffers one sample; never throws. */
  push(raw: unknown): PushResult {
    const now = this.clock.nowNs();
    const parsed = parseSample(raw);
    if (!parsed.ok) return this.reject(now, 'malformed', parsed.error);
    const s = parsed.sample;
    if (s.stream !== this.name) {
      return this.reject(now, 'malformed', new SampleError(this.name, ['stream'], `sample for '${s.stream}' pushed into stream '${this.name}'`));
    }
    const cfg = this.config;
    const tol = sToNs(cfg.future_tolerance_s);
    if (s.t_capture_ns === 0) {
      return this.reject(now, 'timestamp', new SampleError(this.name, ['t_capture_ns'], 'capture time is zero (sensor clock not set?)'));
    }
    const lead = Math.max(s.t_capture_ns - s.t_receive_ns, s.t_capture_ns - now);
    if (lead > tol) {
      const why = this.lastAccepted ? 'the capture clock jumped forward' : 'clocks not synchronized?';
      return this.reject(now, 'timestamp', new SampleError(this.name, ['t_capture_ns'], `capture time is ${fmtS(nsToS(lead))} in the future (${why})`));
    }
    const prev = this.lastAccepted;
    if (prev) {
      if (s.t_capture_ns < prev.t_capture_ns) {
        const back = nsToS(prev.t_capture_ns - s.t_capture_ns);
        return this.reject(now, 'timestamp', new SampleError(this.name, ['t_capture_ns'], `capture time went backwards by ${fmtS(back)}`));
      }
      if (s.t_capture_ns === prev.t_capture_ns) {
        return this.reject(now, 'duplicate', new SampleError(this.name, ['t_capture_ns'], `capture time repeats (seq ${prev.seq} → ${s.seq})`));
      }
      const skew = nsToS(s.t_capture_ns - prev.t_capture_ns - (s.t_receive_ns - prev.t_receive_ns));
      if (Math.abs(skew) > cfg.jump_tolerance_s) {
        this.counters.clock_jumps++;
        this.event(now, 'jump', `capture clock jumped ${skew > 0 ? '+' : ''}${fmtS(skew)} relative to receive clock`);
      }
      if (s.seq > prev.seq + 1) {
        const lost = s.seq - prev.seq - 1;
        this.counters.lost_upstream += lost;
        this.event(now, 'seq_gap', `${lost} sample${lost === 1 ? '' : 's'} lost upstream (seq ${prev.seq} → ${s.seq})`);
      }
    }
    const violation = rangeViolation(this.modality, s, cfg.ranges);
    if (violation) {
      this.counters.out_of_range++;
      this.event(now, 'range', violation);
    }
    if (cfg.frozen_after_s !== null) {
      const fp = fingerprint(s);
      if (!prev || fp !== this.lastFingerprint) this.unchangedSinceNs = s.t_capture_ns;
      this.lastFingerprint = fp;
    }
    if (this.modality === 'smell') {
      const warmed = (s.data as { warmed_up: boolean }).warmed_up;
      if (!warmed && this.warmupStartNs === null) this.warmupStartNs = s.t_capture_ns;
      if (warmed) this.warmupStartNs = null;
    }
    if (this.firstCaptureNs === null) this.firstCaptureNs = s.t_capture_ns;
    this.lastAccepted = s;
    this.counters.accepted++;
    this.ring.push(s);
    this.ring.prune(s.t_capture_ns - sToNs(cfg.buffer_s), cfg.max_samples);
    return { ok: true, sample: s };
  }

  private reject(now: number, kind: EventKind, error: SampleError): PushResult {
    this.counters.rejected++;
    if (kind === 'malformed') this.counters.malformed++;
    else if (kind === 'duplicate') this.counters.duplicate++;
    else this.counters.bad_timestamp++;
    this.event(now, kind, error.message.slice(this.name.length + 2));
    return { ok: false, error };
  }

  private event(now: number, kind: EventKind, message: string): void {
    this.events.push({ t_ns: now, kind, message });
    // Events older than the hold time can no longer affect a verdict.
    const horizon = now - sToNs(this.config.event_hold_s);
    let drop = 0;
    while (drop < this.events.length && this.events[drop].t_ns < horizon) drop++;
    if (drop > 0) this.events = this.events.slice(drop);
    if (this.events.length > 1000) this.events = this.events.slice(-1000);
  }

  /** Buffered samples, oldest first. */
  get length(): number {
    return this.ring.length;
  }
  at(i: number): Sample {
    return this.ring.at(i);
  }
  latest(): Sample | null {
    return this.ring.last() ?? null;
  }

  /**
   * The newest sample known at `tNs`: captured at or before t and received at
   * or before t (a sample still in flight at t is not known at t).
   */
  latestAt(tNs: number): { sample: Sample; index: number } | null {
    let i = this.ring.indexAtOrBefore(tNs);
    while (i >= 0 && this.ring.at(i).t_receive_ns > tNs) i--;
    return i >= 0 ? { sample: this.ring.at(i), index: i } : null;
  }

  /** Up to `count` samples known at t, oldest first, ending with latestAt(t). */
  historyAt(tNs: number, count: number, maxAgeS = Infinity): Sample[] {
    const out: Sample[] = [];
    const oldest = Number.isFinite(maxAgeS) ? tNs - sToNs(maxAgeS) : -Infinity;
    for (let i = this.ring.indexAtOrBefore(tNs); i >= 0 && out.length < count; i--) {
      const s = this.ring.at(i);
      if (s.t_capture_ns < oldest) break;
      if (s.t_receive_ns <= tNs) out.push(s);
    }
    return out.reverse();
  }

  /** Measured rate over the window ending at t, or null while too little is known. */
  rateAt(tNs: number): number | null {
    const windowNs = sToNs(this.config.rate_window_s);
    const end = this.ring.indexAtOrBefore(tNs);
    if (end < 0 || this.firstCaptureNs === null) return null;
    const start = this.ring.indexAfter(tNs - windowNs);
    const n = end - start + 1;
    if (n >= 2) {
      const span = this.ring.at(end).t_capture_ns - this.ring.at(start).t_capture_ns;
      return span > 0 ? ((n - 1) * 1e9) / span : null;
    }
    // One sample or none in a full window: the rate is at most n per window.
    return tNs - this.firstCaptureNs >= windowNs ? n / this.config.rate_window_s : null;
  }

  /** The stream's health at `tNs` (default: the clock's now). Pure given the pushes so far. */
  health(tNs: number = this.clock.nowNs()): StreamHealth {
    const cfg = this.config;
    const checks: CheckResult[] = [];
    const known = this.latestAt(tNs);
    const age = known ? nsToS(tNs - known.sample.t_capture_ns) : null;
    const warming = this.modality === 'smell' && known !== null && !(known.sample.data as { warmed_up: boolean }).warmed_up;
    // While a sensor warms up its values and rate are not yet meaningful: WARN at most.
    const soft = (l: Level): Level => (warming ? capLevel(l, 'WARN') : l);

    if (!known || age === null) {
      checks.push({ name: 'staleness', level: 'STALE', message: this.counters.accepted ? 'no sample known at this time' : 'no data received' });
    } else if (age > cfg.stale_after_s) {
      checks.push({ name: 'staleness', level: 'STALE', message: `no sample for ${fmtS(age)} (expected every ${fmtS(1 / cfg.expected_hz)})` });
    } else {
      checks.push({ name: 'staleness', level: 'OK', message: `age ${fmtS(age)}` });
    }

    const rate = this.rateAt(tNs);
    if (rate !== null) {
      const lo = cfg.min_hz * (1 - cfg.rate_tolerance);
      const hi = cfg.max_hz * (1 + cfg.rate_tolerance);
      if (rate < cfg.expected_hz * cfg.rate_error_fraction) {
        checks.push({ name: 'rate', level: soft('ERROR'), message: `${fmtHz(rate)}, far below ${fmtHz(lo)}` });
      } else if (rate < lo) {
        checks.push({ name: 'rate', level: soft('WARN'), message: `${fmtHz(rate)}, below ${fmtHz(lo)}` });
      } else if (rate > hi) {
        checks.push({ name: 'rate', level: soft('WARN'), message: `${fmtHz(rate)}, above ${fmtHz(hi)}` });
      } else {
        checks.push({ name: 'rate', level: 'OK', message: fmtHz(rate) });
      }
    }

    const horizon = tNs - sToNs(cfg.event_hold_s);
    const recent = (kinds: EventKind[]) => this.events.filter((e) => e.t_ns > horizon && e.t_ns <= tNs && kinds.includes(e.kind));
    const summarize = (evs: HealthEvent[], what: string) =>
      `${evs.length} ${what} in the last ${fmtS(cfg.event_hold_s)}; latest: ${evs[evs.length - 1].message}`;

    const bad = recent(['malformed']);
    if (bad.length) checks.push({ name: 'values', level: 'ERROR', message: summarize(bad, 'malformed samples rejected') });
    const range = recent(['range']);
    if (range.length) checks.push({ name: 'range', level: soft('ERROR'), message: summarize(range, 'out-of-range samples') });
    const ts = recent(['timestamp']);
    if (ts.length) checks.push({ name: 'timestamps', level: 'ERROR', message: summarize(ts, 'samples with bad capture times rejected') });
    const jumps = recent(['jump']);
    if (jumps.length) checks.push({ name: 'clock', level: 'ERROR', message: summarize(jumps, 'clock jumps') });
    const dups = recent(['duplicate']);
    if (dups.length) checks.push({ name: 'duplicates', level: 'WARN', message: summarize(dups, 'repeated capture times') });
    const gaps = recent(['seq_gap']);
    if (gaps.length) checks.push({ name: 'sequence', level: 'WARN', message: summarize(gaps, 'sequence gaps') });

    if (cfg.frozen_after_s !== null && known && known.sample === this.lastAccepted) {
      const still = nsToS(known.sample.t_capture_ns - this.unchangedSinceNs);
      if (still >= cfg.frozen_after_s) {
        checks.push({ name: 'frozen', level: 'WARN', message: `identical data for ${fmtS(still)}` });
      }
    }

    if (warming) {
      const since = this.warmupStartNs === null ? 0 : nsToS(tNs - this.warmupStartNs);
      if (cfg.warmup_timeout_s !== null && since > cfg.warmup_timeout_s) {
        checks.push({ name: 'warmup', level: 'ERROR', message: `still warming up after ${fmtS(since)} (limit ${fmtS(cfg.warmup_timeout_s)})` });
      } else {
        checks.push({ name: 'warmup', level: 'WARN', message: `warming up (${fmtS(since)} so far)` });
      }
    }

    return {
      ...rollup(checks),
      stream: this.name,
      t_ns: tNs,
      rate_hz: rate,
      age_s: age,
      counters: { ...this.counters },
    };
  }
}
