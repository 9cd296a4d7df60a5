// The health monitor: one diagnostics-style rollup over everything that can
// go wrong while a policy drives the robot — each stream (sensors/ verdicts),
// the link, inference latency, tick overruns, the e-stop, free disk while
// recording. Levels are diagnostic_msgs' OK/WARN/ERROR/STALE.
//
// The rule the control loop enforces: rollup ERROR or STALE ⇔ safe stop.
// To keep that rule exact, a component that does not stop the robot never
// reports worse than WARN in the rollup: an optional stream that fails is
// masked (degrade), and shows as WARN with its own level in `values`.
import { capLevel, levelValue, worst, type Level, type Stream, type StreamHealth } from '../sensors/index.ts';
import type { HealthConfig } from './config.ts';
import type { ConnectionState, DiagnosticStatus } from './robot.ts';

export interface ComponentHealth {
  name: string;
  level: Level;
  message: string;
  /** True when this component's level demands a safe stop. */
  stop: boolean;
  values: Record<string, string>;
}

export interface MonitoredStream {
  stream: Stream;
  required: boolean;
  onWarn: 'mask' | 'continue';
}

export interface StreamReport {
  health: StreamHealth;
  required: boolean;
  /** Hidden from the policy this tick. */
  masked: boolean;
}

export interface HealthReport {
  t_ns: number;
  level: Level;
  /** A safe stop is required now. */
  stop: boolean;
  /** Components demanding the stop, e.g. ['stream proprio', 'connection']. */
  reasons: string[];
  components: ComponentHealth[];
  streams: Record<string, StreamReport>;
}

/** A window of recent values (fixed size, no allocation per push). */
class Window {
  private readonly buf: Float64Array;
  private n = 0;
  private i = 0;
  constructor(size: number) {
    this.buf = new Float64Array(size);
  }
  push(v: number): void {
    this.buf[this.i] = v;
    this.i = (this.i + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
  }
  get size(): number {
    return this.n;
  }
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const a = Array.from(this.buf.subarray(0, this.n)).sort((x, y) => x - y);
    return a[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))];
  }
}

const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

export interface MonitorOptions {
  streams: MonitoredStream[];
  config: HealthConfig;
  /** Control period, s (budget and overrun accounting). */
  periodS: number;
}

export class HealthMonitor {
  private connection: { state: ConnectionState; sinceNs: number; reconnects: number } = { state: 'connecting', sinceNs: 0, reconnects: 0 };
  private estop = false;
  private estopSource = '';
  private readonly latencies = new Window(100);
  private lastLatencyS: number | null = null;
  private consecutiveOverruns = 0;
  /** Clock ns of recent overruns (skipped ticks), for the loop's WARN window. */
  private overrunTimes: number[] = [];
  private inferenceError: string | null = null;
  private inferenceStartNs: number | null = null;
  private disk: { free: number; dir: string } | null = null;
  private warmedUp = false;

  constructor(private readonly opts: MonitorOptions) {}

  get budgetS(): number {
    return this.opts.config.inference_budget_s ?? this.opts.periodS;
  }

  setConnection(state: ConnectionState, nowNs: number, reconnects: number): void {
    if (state !== this.connection.state) this.connection = { state, sinceNs: nowNs, reconnects };
    else this.connection.reconnects = reconnects;
  }

  setEstop(engaged: boolean, source: string): void {
    this.estop = engaged;
    this.estopSource = source;
  }

  get estopEngaged(): boolean {
    return this.estop;
  }

  setWarmedUp(): void {
    this.warmedUp = true;
  }

  get policyWarmedUp(): boolean {
    return this.warmedUp;
  }

  noteInferenceStart(tNs: number): void {
    this.inferenceStartNs = tNs;
  }

  noteInference(latencyS: number): void {
    this.latencies.push(latencyS);
    this.lastLatencyS = latencyS;
    this.inferenceError = null;
    this.inferenceStartNs = null;
  }

  noteInferenceError(message: string): void {
    this.inferenceError = message;
    this.inferenceStartNs = null;
  }

  /** A tick found inference still running (skipped), or a tick was missed entirely. */
  noteOverrun(nowNs: number, consecutive: number): void {
    this.consecutiveOverruns = consecutive;
    this.overrunTimes.push(nowNs);
    if (this.overrunTimes.length > 1000) this.overrunTimes = this.overrunTimes.slice(-500);
  }

  noteOnTime(): void {
    this.consecutiveOverruns = 0;
  }

  setDisk(freeBytes: number | null, dir = ''): void {
    this.disk = freeBytes === null ? null : { free: freeBytes, dir };
  }

  inferenceLatency(): { p50: number; p99: number; last: number | null } {
    return { p50: this.latencies.quantile(0.5), p99: this.latencies.quantile(0.99), last: this.lastLatencyS };
  }

  evaluate(tNs: number): HealthReport {
    const cfg = this.opts.config;
    const components: ComponentHealth[] = [];
    const streams: Record<string, StreamReport> = {};
    for (const m of this.opts.streams) {
      const h = m.stream.health(tNs);
      const bad = levelValue(h.level) >= levelValue('ERROR');
      const maskChecks = cfg.mask_on_warn_checks as readonly string[];
      const masked = bad || (h.level === 'WARN' && m.onWarn === 'mask' && h.checks.some((c) => c.level === 'WARN' && maskChecks.includes(c.name)));
      streams[m.stream.name] = { health: h, required: m.required, masked };
      const level = m.required ? h.level : capLevel(h.level, 'WARN');
      components.push({
        name: `stream ${m.stream.name}`,
        level,
        message: masked && h.level !== 'OK' ? `${h.message} (masked${m.required ? '' : ', optional stream'})` : h.message,
        stop: m.required && bad,
        values: {
          level: h.level,
          required: String(m.required),
          masked: String(masked),
          rate_hz: h.rate_hz === null ? '' : h.rate_hz.toFixed(2),
          age_s: h.age_s === null ? '' : h.age_s.toFixed(3),
          expected_hz: String(m.stream.config.expected_hz),
          accepted: String(h.counters.accepted),
          rejected: String(h.counters.rejected),
        },
      });
    }

    const c = this.connection;
    const since = (tNs - c.sinceNs) / 1e9;
    components.push({
      name: 'connection',
      level: c.state === 'connected' ? 'OK' : 'ERROR',
      message: c.state === 'connected' ? `connected (${c.reconnects} reconnects)` : `${c.state} for ${since.toFixed(1)} s`,
      stop: c.state !== 'connected',
      values: { state: c.state, reconnects: String(c.reconnects), for_s: since.toFixed(1) },
    });

    const lat = this.inferenceLatency();
    const limitS = cfg.inference_error_periods * this.opts.periodS;
    const runningS = this.inferenceStartNs === null ? 0 : (tNs - this.inferenceStartNs) / 1e9;
    let inf: ComponentHealth;
    if (this.inferenceError) {
      inf = { name: 'inference', level: 'ERROR', message: `policy failed: ${this.inferenceError}`, stop: true, values: {} };
    } else if (runningS > limitS) {
      inf = { name: 'inference', level: 'ERROR', message: `no result for ${ms(runningS)} (limit ${ms(limitS)})`, stop: true, values: {} };
    } else if (lat.last !== null && lat.last > limitS) {
      inf = { name: 'inference', level: 'ERROR', message: `last inference took ${ms(lat.last)} (limit ${ms(limitS)})`, stop: true, values: {} };
    } else if (lat.last !== null && lat.p99 > this.budgetS) {
      inf = { name: 'inference', level: 'WARN', message: `p99 ${ms(lat.p99)} over the ${ms(this.budgetS)} budget`, stop: false, values: {} };
    } else {
      inf = { name: 'inference', level: 'OK', message: lat.last === null ? 'no inference yet' : `p50 ${ms(lat.p50)}, p99 ${ms(lat.p99)}`, stop: false, values: {} };
    }
    inf.values = { p50_s: Number.isNaN(lat.p50) ? '' : lat.p50.toFixed(4), p99_s: Number.isNaN(lat.p99) ? '' : lat.p99.toFixed(4), consecutive_overruns: String(this.consecutiveOverruns) };
    components.push(inf);

    const windowNs = 10e9;
    while (this.overrunTimes.length && this.overrunTimes[0] < tNs - windowNs) this.overrunTimes.shift();
    const recent = this.overrunTimes.length;
    components.push({
      name: 'loop',
      level: recent > 0 ? 'WARN' : 'OK',
      message: recent > 0 ? `${recent} overruns in the last 10 s` : 'on time',
      stop: false,
      values: { overruns_10s: String(recent) },
    });

    components.push({
      name: 'estop',
      level: this.estop ? 'ERROR' : 'OK',
      message: this.estop ? `engaged (${this.estopSource})` : 'released',
      stop: this.estop,
      values: { engaged: String(this.estop) },
    });

    if (this.disk) {
      const { free, dir } = this.disk;
      const level: Level = free < cfg.disk_error_bytes ? 'ERROR' : free < cfg.disk_warn_bytes ? 'WARN' : 'OK';
      components.push({
        name: 'disk',
        level,
        message: `${(free / 1024 ** 3).toFixed(2)} GiB free for recording in ${dir}`,
        stop: level === 'ERROR',
        values: { free_bytes: String(free) },
      });
    }

    const level = worst(components.map((x) => x.level));
    const reasons = components.filter((x) => x.stop).map((x) => x.name);
    return { t_ns: tNs, level, stop: reasons.length > 0, reasons, components, streams };
  }
}

/** The rollup and every component as diagnostic_msgs/DiagnosticStatus entries. */
export function toDiagnostics(report: HealthReport, state: string, hardwareId: string): DiagnosticStatus[] {
  const summary = report.stop ? `safe stop: ${report.reasons.join(', ')}` : report.level === 'OK' ? 'running' : 'running degraded';
  return [
    {
      level: levelValue(report.level),
      name: 'senseact',
      message: `${state}: ${summary}`,
      hardware_id: hardwareId,
      values: [
        { key: 'state', value: state },
        { key: 'stop', value: String(report.stop) },
      ],
    },
    ...report.components.map((c) => ({
      level: levelValue(c.level),
      name: `senseact/${c.name.replace(' ', '/')}`,
      message: c.message,
      hardware_id: hardwareId,
      values: Object.entries(c.values).map(([key, value]) => ({ key, value })),
    })),
  ];
}

export type GateState = 'starting' | 'running' | 'stopped' | 'awaiting_ack';

export interface GateDecision {
  /** Motion is not allowed now (send a stop). */
  hold: boolean;
  /** This update entered a safe stop. */
  entered: boolean;
  /** This update resumed motion. */
  resumed: boolean;
}

/**
 * When the robot may move. ERROR (a report that says stop) → stopped at once.
 * Motion resumes only after every component has been healthy (no stop) for
 * `resume_after_s`, and — when `require_ack` — after an operator
 * acknowledgement given while stopped. Startup counts as a stop without
 * needing the acknowledgement.
 */
export class StopGate {
  state: GateState = 'starting';
  reason = 'starting';
  stoppedAtNs: number | null = null;
  private healthySinceNs: number | null = null;
  private acked = false;
  stops = 0;

  constructor(private readonly config: Pick<HealthConfig, 'resume_after_s' | 'require_ack'>) {}

  update(report: HealthReport, nowNs: number): GateDecision {
    if (report.stop) {
      this.healthySinceNs = null;
      if (this.state === 'running') {
        this.state = 'stopped';
        this.reason = report.reasons.join(', ');
        this.stoppedAtNs = nowNs;
        this.acked = false;
        this.stops++;
        return { hold: true, entered: true, resumed: false };
      }
      if (this.state === 'awaiting_ack') this.state = 'stopped';
      return { hold: true, entered: false, resumed: false };
    }
    if (this.state === 'running') return { hold: false, entered: false, resumed: false };
    this.healthySinceNs ??= nowNs;
    if ((nowNs - this.healthySinceNs) / 1e9 < this.config.resume_after_s) return { hold: true, entered: false, resumed: false };
    if (this.config.require_ack && this.state !== 'starting' && !this.acked) {
      this.state = 'awaiting_ack';
      return { hold: true, entered: false, resumed: false };
    }
    this.state = 'running';
    this.reason = '';
    this.stoppedAtNs = null;
    return { hold: false, entered: false, resumed: true };
  }

  /** Operator acknowledgement; true when it was needed (the gate was stopped). */
  ack(): boolean {
    if (this.state === 'stopped' || this.state === 'awaiting_ack') {
      this.acked = true;
      return true;
    }
    return false;
  }
}
