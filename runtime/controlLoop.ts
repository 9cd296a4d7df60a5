// The control loop: a fixed rate on a monotonic clock, a deadline per tick.
//
// Tick k is due at t0 + k·P. At each tick: evaluate health; if motion is not
// allowed, send a stop; otherwise build the frame from the synchronizer and
// start inference. Inference never overlaps itself and ticks never queue:
//
// - a tick that finds the previous inference still running is an overrun:
//   it is counted and skipped (no second inference, no command);
// - a timer that fires a whole period or more late skips the ticks it missed
//   (counted as overruns) and realigns to the schedule — no burst of catch-up
//   ticks, so at most one command per period ever goes out;
// - a result that arrives after `max_action_age_s` (default two periods) from
//   its frame is dropped as stale; one that arrives while stopped is dropped.
//
// Between ticks a watchdog evaluates health at `check_hz`, so a stream that
// stops or a link that drops is answered with a safe stop at once, not at the
// next tick. Safety actions never wait for inference.
import { EventEmitter } from 'node:events';
import type { ActionData, Clock, Frame, Synchronizer } from '../sensors/index.ts';
import type { Controller } from '../policy/index.ts';
import type { HealthMonitor, HealthReport, StopGate } from './healthMonitor.ts';
import type { Robot } from './robot.ts';
import type { Limit, SafetyFilter } from './safety.ts';

export interface LoopOptions {
  robot: Robot;
  controller: Controller;
  sync: Synchronizer;
  monitor: HealthMonitor;
  gate: StopGate;
  safety: SafetyFilter;
  rateHz: number;
  /** Health watchdog rate between ticks, Hz. */
  checkHz: number;
  maxActionAgeS: number;
  clock: Clock;
  /** Clock nanoseconds per wall-clock nanosecond (replay faster than real time: > 1). */
  timeScale?: number;
  /** The proprio stream (end-effector pose, base yaw, grip force for the safety filter). */
  proprioStream?: string | null;
}

export interface CommandEvent {
  t_ns: number;
  action: ActionData;
  requested: ActionData;
  limited: Limit[];
  inferenceS: number;
  /** Command time − receive time of the newest sample in the frame. */
  sampleToCommandS: number | null;
  /** Command time − capture time of the newest sample in the frame. */
  captureToCommandS: number | null;
  sent: boolean;
}

export interface StopEvent {
  t_ns: number;
  reasons: string[];
  level: string;
  sent: boolean;
  /** Where the stop came from: the watchdog between ticks or a tick. */
  by: 'watchdog' | 'tick';
  messages: string[];
  /** The components that demanded it, with their values (age_s, rate_hz, ...). */
  components: { name: string; level: string; values: Record<string, string> }[];
}

export interface LoopEvents {
  tick: [{ t_ns: number; durationS: number; /** How late the tick started against its schedule, s. */ lateS: number }];
  command: [CommandEvent];
  stop: [StopEvent];
  resume: [{ t_ns: number; stoppedS: number }];
  overrun: [{ t_ns: number; skipped: number; consecutive: number; cause: 'inference' | 'late timer' }];
  dropped: [{ t_ns: number; reason: 'stale' | 'stopped'; ageS: number }];
  /** A stop command went out (zero twist, this gripper). */
  stopSent: [{ t_ns: number; gripper: number }];
  report: [HealthReport];
  error: [Error];
}

export interface LoopStats {
  /** Timer firings handled (including those that found inference still running). */
  ticks: number;
  /** Skipped ticks: overruns_inference + overruns_late. */
  overruns: number;
  /** Ticks that found the previous inference still running (no new inference, no command). */
  overruns_inference: number;
  /** Tick slots never run because the timer fired a period or more late. */
  overruns_late: number;
  commands: number;
  stops_sent: number;
  safe_stops: number;
  dropped_stale: number;
  dropped_stopped: number;
  inference_errors: number;
  inflight_max: number;
  last_tick_ns: number;
}

interface Inflight {
  lateS: number;
  frameNs: number;
  startNs: number;
  discard: boolean;
}

export class ControlLoop {
  readonly events = new EventEmitter<LoopEvents>();
  readonly stats: LoopStats = {
    ticks: 0,
    overruns: 0,
    overruns_inference: 0,
    overruns_late: 0,
    commands: 0,
    stops_sent: 0,
    safe_stops: 0,
    dropped_stale: 0,
    dropped_stopped: 0,
    inference_errors: 0,
    inflight_max: 0,
    last_tick_ns: 0,
  };
  readonly periodNs: number;
  private t0 = 0;
  private k = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private running = false;
  private inflight: Inflight | null = null;
  private inflightPromise: Promise<void> | null = null;
  private inflightCount = 0;
  private consecutive = 0;
  private lastReport: HealthReport | null = null;
  private lastStopNs = -Infinity;

  constructor(private readonly o: LoopOptions) {
    this.periodNs = 1e9 / o.rateHz;
  }

  get report(): HealthReport | null {
    return this.lastReport;
  }

  private get scale(): number {
    return this.o.timeScale ?? 1;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.t0 = this.o.clock.nowNs();
    this.k = 0;
    this.checkTimer = setInterval(() => this.check(), 1000 / this.o.checkHz / this.scale);
    this.tick();
  }

  /** Stops ticking and waits (briefly) for an inference in flight to settle. */
  async stop(timeoutMs = 1000): Promise<void> {
    this.running = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.tickTimer = null;
    this.checkTimer = null;
    if (this.inflight) this.inflight.discard = true;
    if (this.inflightPromise) await Promise.race([this.inflightPromise, new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  /** The watchdog between ticks: health now, and a stop at once if it says so. */
  check(): HealthReport {
    const now = this.o.clock.nowNs();
    const report = this.evaluate(now);
    // The watchdog only ever stops; resuming is decided at ticks.
    if (report.stop && this.o.gate.update(report, now).entered) this.enterStop(report, now, 'watchdog');
    return report;
  }

  private evaluate(now: number): HealthReport {
    const r = this.o.robot;
    this.o.monitor.setConnection(r.state, now, r.counters.reconnects);
    const report = this.o.monitor.evaluate(now);
    const prev = this.lastReport;
    this.lastReport = report;
    if (!prev || prev.level !== report.level || prev.stop !== report.stop || prev.reasons.join() !== report.reasons.join()) this.events.emit('report', report);
    return report;
  }

  private enterStop(report: HealthReport, now: number, by: 'watchdog' | 'tick'): void {
    if (this.inflight) this.inflight.discard = true;
    const sent = this.sendStop();
    this.stats.safe_stops++;
    this.events.emit('stop', {
      t_ns: now,
      reasons: report.reasons,
      level: report.level,
      sent,
      by,
      messages: report.components.filter((c) => c.stop).map((c) => `${c.name}: ${c.message}`),
      components: report.components.filter((c) => c.stop).map((c) => ({ name: c.name, level: c.level, values: c.values })),
    });
  }

  private sendStop(): boolean {
    const sent = this.o.robot.safeStop();
    this.lastStopNs = this.o.clock.nowNs();
    if (sent) {
      this.stats.stops_sent++;
      this.events.emit('stopSent', { t_ns: this.o.clock.nowNs(), gripper: this.o.safety.lastCommand.gripper });
    }
    this.o.safety.noteStop(this.o.safety.lastCommand.gripper);
    return sent;
  }

  private schedule(): void {
    if (!this.running) return;
    const due = this.t0 + (this.k + 1) * this.periodNs;
    const waitMs = Math.max(0, (due - this.o.clock.nowNs()) / 1e6 / this.scale);
    this.tickTimer = setTimeout(() => {
      this.k++;
      this.tick();
    }, waitMs);
  }

  private tick(): void {
    if (!this.running) return;
    const start = this.o.clock.nowNs();
    const lateS = (start - (this.t0 + this.k * this.periodNs)) / 1e9;
    try {
      // A timer late by a whole period or more: the missed ticks are gone, not replayed.
      const behind = Math.floor((start - (this.t0 + this.k * this.periodNs)) / this.periodNs);
      if (behind >= 1) {
        this.k += behind;
        this.stats.overruns += behind;
        this.stats.overruns_late += behind;
        this.consecutive += behind;
        this.o.monitor.noteOverrun(start, this.consecutive);
        this.events.emit('overrun', { t_ns: start, skipped: behind, consecutive: this.consecutive, cause: 'late timer' });
      }
      this.stats.ticks++;
      this.stats.last_tick_ns = start;
      const report = this.evaluate(start);
      const stoppedAt = this.o.gate.stoppedAtNs;
      const d = this.o.gate.update(report, start);
      if (d.entered) this.enterStop(report, start, 'tick');
      // Held: repeat the stop once per tick (not again right after the watchdog sent one).
      else if (d.hold && start - this.lastStopNs >= this.periodNs / 2) this.sendStop();
      if (d.resumed) {
        this.o.controller.reset();
        this.events.emit('resume', { t_ns: start, stoppedS: stoppedAt === null ? 0 : (start - stoppedAt) / 1e9 });
      }
      if (this.inflight) {
        // Inference from an earlier tick is still running: skip this one.
        this.stats.overruns++;
        this.stats.overruns_inference++;
        this.consecutive++;
        this.o.monitor.noteOverrun(start, this.consecutive);
        this.events.emit('overrun', { t_ns: start, skipped: 1, consecutive: this.consecutive, cause: 'inference' });
        return;
      }
      if (behind < 1) {
        this.consecutive = 0;
        this.o.monitor.noteOnTime();
      }
      // While stopped, inference still runs (results discarded): it keeps the policy warm and
      // tells the monitor whether a slow policy is fast again.
      this.infer(start, lateS, report, d.hold);
    } catch (err) {
      this.events.emit('error', err as Error);
    } finally {
      this.schedule();
    }
  }

  private infer(start: number, lateS: number, report: HealthReport, probe: boolean): void {
    const frame = this.o.sync.frame(start);
    // The monitor decides masks (WARN from a masking check, ERROR on an optional stream).
    for (const [name, s] of Object.entries(report.streams)) {
      const slot = frame.slots[name];
      if (s.masked && slot && !slot.masked) {
        slot.masked = true;
        slot.reason = 'unhealthy';
        frame.masked.push(name);
      }
    }
    const job: Inflight = { frameNs: start, startNs: start, discard: probe, lateS };
    this.o.monitor.noteInferenceStart(start);
    this.inflight = job;
    this.inflightCount++;
    this.stats.inflight_max = Math.max(this.stats.inflight_max, this.inflightCount);
    const p = this.o.controller
      .act(frame)
      .then(
        (action) => this.finish(job, frame, action),
        (err: Error) => {
          this.stats.inference_errors++;
          this.o.monitor.noteInferenceError(err.message);
          this.events.emit('error', err);
        },
      )
      .finally(() => {
        this.inflightCount--;
        if (this.inflight === job) this.inflight = null;
        if (this.inflightPromise === p) this.inflightPromise = null;
      });
    this.inflightPromise = p;
  }

  private finish(job: Inflight, frame: Frame, requested: ActionData): void {
    const now = this.o.clock.nowNs();
    const inferenceS = (now - job.startNs) / 1e9;
    this.o.monitor.noteInference(inferenceS);
    const ageS = (now - job.frameNs) / 1e9;
    if (job.discard || this.o.gate.state !== 'running' || !this.running) {
      this.stats.dropped_stopped++;
      this.events.emit('dropped', { t_ns: now, reason: 'stopped', ageS });
      this.events.emit('tick', { t_ns: job.startNs, durationS: inferenceS, lateS: job.lateS });
      return;
    }
    if (ageS > this.o.maxActionAgeS) {
      this.stats.dropped_stale++;
      this.events.emit('dropped', { t_ns: now, reason: 'stale', ageS });
      return;
    }
    const { action, limited } = this.o.safety.filter(requested, this.safetyContext(frame));
    const sent = this.o.robot.command(action);
    const after = this.o.clock.nowNs();
    if (sent) this.stats.commands++;
    let newestReceive = -Infinity;
    let newestCapture = -Infinity;
    for (const slot of Object.values(frame.slots)) {
      if (!slot.sample) continue;
      newestReceive = Math.max(newestReceive, slot.sample.t_receive_ns);
      newestCapture = Math.max(newestCapture, slot.sample.t_capture_ns);
    }
    this.events.emit('command', {
      t_ns: after,
      action,
      requested,
      limited,
      inferenceS,
      sampleToCommandS: Number.isFinite(newestReceive) ? (after - newestReceive) / 1e9 : null,
      captureToCommandS: Number.isFinite(newestCapture) ? (after - newestCapture) / 1e9 : null,
      sent,
    });
    this.events.emit('tick', { t_ns: job.startNs, durationS: (after - job.startNs) / 1e9, lateS: job.lateS });
  }

  private safetyContext(frame: Frame) {
    const name = this.o.proprioStream;
    const slot = name ? frame.slots[name] : undefined;
    const p = slot?.sample && !slot.masked ? (slot.sample.data as { names: string[]; position: number[]; gripper_force: number; ee_pose?: { x: number; y: number; z: number } }) : null;
    const yawIndex = p ? p.names.indexOf('base_yaw') : -1;
    return {
      dtS: this.periodNs / 1e9,
      ee: p?.ee_pose ?? null,
      baseYaw: p && yawIndex >= 0 ? p.position[yawIndex] : 0,
      gripForceN: p ? p.gripper_force : null,
    };
  }
}
