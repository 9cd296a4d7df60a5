// Assembles one running policy: robot → streams → synchronizer → control loop
// (health monitor, stop gate, safety filter) → robot, plus metrics, health
// publishing and optional recording. `senseact serve` wraps this in a daemon
// with HTTP endpoints; `bench loop` and tests drive it directly.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_HISTORY, observationStreams, DEFAULT_RATE_HZ, LogWriter, Stream, Synchronizer, levelValue, modalityOf, type Frame, type Sample, type SlotOptions, type StreamConfigInput } from '../sensors/index.ts';
import { loadController, missingPolicyFile, type Controller } from '../policy/index.ts';
import type { RuntimeConfig, StreamEntry } from './config.ts';
import { ControlLoop } from './controlLoop.ts';
import { HealthMonitor, StopGate, toDiagnostics, type HealthReport, type MonitoredStream } from './healthMonitor.ts';
import { Registry, SECONDS_BUCKETS } from './metrics.ts';
import { ReplayRobot } from './replayRobot.ts';
import type { Robot } from './robot.ts';
import { RosbridgeRobot, type Logger } from './rosbridgeRobot.ts';
import { SafetyFilter } from './safety.ts';
import { ScriptedController, isScriptedSpec } from './scripted.ts';

export interface RuntimeLogger extends Logger {
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** `scripted:NAME[?…]` or a checkpoint file. */
export async function createController(spec: string, backend: 'auto' | 'webgpu' | 'cpu' = 'auto'): Promise<Controller> {
  if (isScriptedSpec(spec)) return ScriptedController.fromSpec(spec);
  const missing = missingPolicyFile(spec);
  if (missing) throw new Error(`--policy: no such checkpoint: ${missing}`);
  return loadController(spec, { backend });
}

/** Stream names the controller reads. */
export function controllerStreams(c: Controller): Set<string> {
  return new Set(observationStreams(c.layout));
}

export interface ResolvedStream {
  name: string;
  entry: StreamEntry;
  required: boolean;
}

/** Which configured streams are subscribed, and which of them are required. */
export function resolveStreams(config: RuntimeConfig, controller: Controller): ResolvedStream[] {
  const used = controllerStreams(controller);
  const out: ResolvedStream[] = [];
  for (const [name, entry] of Object.entries(config.streams)) {
    const modality = modalityOf(name);
    // The safety filter reads proprio (pose, grip force) and touch (grip force).
    const safety = modality === 'proprio' || modality === 'tactile';
    const enabled = entry.enabled === 'auto' ? used.has(name) || safety : entry.enabled;
    if (!enabled) continue;
    const required = entry.required === 'auto' ? used.has(name) || safety : entry.required;
    out.push({ name, entry, required });
  }
  return out;
}

/** A robot from an address: ws://HOST:PORT (rosbridge), sim:TASK (in-process), replay:FILE[?speed=N]. */
export async function createRobot(address: string, config: RuntimeConfig, streams: ResolvedStream[], logger?: Logger): Promise<Robot> {
  if (/^wss?:\/\//.test(address)) {
    return new RosbridgeRobot({
      url: address,
      config: config.robot,
      streams: Object.fromEntries(streams.map((s) => [s.name, s.entry])),
      logger,
    });
  }
  if (address.startsWith('sim:')) {
    const { SimRobot } = await import('./simRobot.ts');
    const { TASK_NAMES } = await import('../sim/index.ts');
    const [task, query = ''] = address.slice(4).split('?', 2);
    if (!(TASK_NAMES as readonly string[]).includes(task)) throw new Error(`--robot: unknown sim task '${task}' (one of: ${TASK_NAMES.join(', ')})`);
    const q = new URLSearchParams(query);
    return new SimRobot({ task: task as (typeof TASK_NAMES)[number], seed: Number(q.get('seed') ?? 0), camera: streams.some((s) => s.name.startsWith('camera')), sceneCamera: streams.some((s) => s.name === 'camera/scene') });
  }
  if (address.startsWith('replay:')) {
    const [file, query = ''] = address.slice(7).split('?', 2);
    const speed = Number(new URLSearchParams(query).get('speed') ?? 1);
    return new ReplayRobot({ file, speed, streams: streams.map((s) => s.name) });
  }
  throw new Error(`--robot must be ws://HOST:PORT, sim:TASK or replay:FILE (got '${address}')`);
}

export interface RuntimeOptions {
  config: RuntimeConfig;
  controller: Controller;
  robot: Robot;
  streams: ResolvedStream[];
  logger: RuntimeLogger;
}

/** Rate-limits repeated warnings: at most one line per key per second, with the count skipped. */
class Throttle {
  private readonly last = new Map<string, { t: number; skipped: number }>();
  allow(key: string, nowMs: number): number | null {
    const e = this.last.get(key);
    if (e && nowMs - e.t < 1000) {
      e.skipped++;
      return null;
    }
    const skipped = e?.skipped ?? 0;
    this.last.set(key, { t: nowMs, skipped: 0 });
    return skipped;
  }
}

export class Runtime {
  readonly streams = new Map<string, Stream>();
  readonly sync: Synchronizer;
  readonly monitor: HealthMonitor;
  readonly gate: StopGate;
  readonly safety: SafetyFilter;
  readonly loop: ControlLoop;
  readonly registry = new Registry();
  readonly startedAtNs: number;
  private readonly m;
  private healthTimer: NodeJS.Timeout | null = null;
  private diskTimer: NodeJS.Timeout | null = null;
  private recorder: { writer: LogWriter; openedMs: number; file: string } | null = null;
  private recordingOff = false;
  private readonly throttle = new Throttle();
  readonly rejections = new Map<string, Record<string, number>>();
  stopped = false;

  constructor(private readonly o: RuntimeOptions) {
    const { config, robot } = o;
    const clock = robot.clock;
    const period = 1 / config.rate_hz;
    const monitored: MonitoredStream[] = [];
    const slots: Record<string, SlotOptions> = {};
    const layout = o.controller.layout;
    for (const s of o.streams) {
      const modality = modalityOf(s.name)!;
      const hz = s.entry.health.expected_hz ?? DEFAULT_RATE_HZ[modality];
      const cfg: StreamConfigInput = { ...s.entry.health };
      cfg.stale_after_s ??= Math.max(2 / hz, config.health.min_stale_s);
      const stream = new Stream(s.name, { clock, config: cfg });
      this.streams.set(s.name, stream);
      monitored.push({ stream, required: s.required, onWarn: s.entry.on_warn });
      // The synchronizer masks ERROR/STALE slots; WARN masks come from the monitor's report (per check).
      slots[s.name] = {
        history: s.name === layout.smell.stream ? layout.smell.history : DEFAULT_HISTORY[modality],
      };
    }
    this.sync = new Synchronizer([...this.streams.values()], { slots });
    this.monitor = new HealthMonitor({ streams: monitored, config: config.health, periodS: period });
    this.gate = new StopGate(config.health);
    this.safety = new SafetyFilter(config.safety);
    this.loop = new ControlLoop({
      robot,
      controller: o.controller,
      sync: this.sync,
      monitor: this.monitor,
      gate: this.gate,
      safety: this.safety,
      rateHz: config.rate_hz,
      checkHz: config.health.check_hz,
      maxActionAgeS: config.health.max_action_age_s ?? 2 * period,
      clock,
      timeScale: (robot as { timeScale?: number }).timeScale ?? 1,
      proprioStream: o.streams.find((s) => s.name.startsWith('proprio'))?.name ?? null,
    });
    this.startedAtNs = clock.nowNs();
    this.m = this.makeMetrics();
    this.wire();
  }

  get robot(): Robot {
    return this.o.robot;
  }

  get controller(): Controller {
    return this.o.controller;
  }

  get config(): RuntimeConfig {
    return this.o.config;
  }

  private makeMetrics() {
    const r = this.registry;
    return {
      tick: r.histogram('senseact_tick_duration_seconds', 'Control tick duration: frame, health, inference, safety filter, command.', SECONDS_BUCKETS),
      tickLate: r.histogram('senseact_tick_lateness_seconds', 'How late each tick started against its fixed-rate schedule (jitter).', SECONDS_BUCKETS),
      inference: r.histogram('senseact_inference_latency_seconds', 'Policy inference latency per tick.', SECONDS_BUCKETS),
      s2c: r.histogram('senseact_sample_to_command_latency_seconds', 'Command time minus receive time of the newest sample in its frame.', SECONDS_BUCKETS),
      ticks: r.counter('senseact_ticks_total', 'Control ticks run.'),
      overruns: r.counter('senseact_tick_overruns_total', 'Ticks skipped: inference still running, or the timer was a period or more late.'),
      commands: r.counter('senseact_commands_total', 'Motion commands sent to the robot.'),
      stopsSent: r.counter('senseact_stop_commands_total', 'Stop commands sent (every tick while stopped, and first on each connection).'),
      safeStops: r.counter('senseact_safe_stops_total', 'Transitions into a safe stop.'),
      dropped: r.counter('senseact_actions_dropped_total', 'Policy actions not sent: stale, or computed while stopped.'),
      suppressed: r.counter('senseact_motion_suppressed_total', 'Motion commands refused (not queued) because the link was down.'),
      reconnects: r.counter('senseact_reconnects_total', 'Connections re-established after a drop.'),
      malformed: r.counter('senseact_ros_malformed_frames_total', 'Frames from rosbridge that were not a valid message (dropped).'),
      messages: r.counter('senseact_ros_messages_total', 'Messages received per input topic.'),
      samples: r.counter('senseact_stream_samples_total', 'Samples accepted per stream.'),
      rejected: r.counter('senseact_stream_rejected_total', 'Samples rejected per stream and reason (dropped).'),
      limits: r.counter('senseact_safety_limited_total', 'Commands changed by a safety limit.'),
      inferenceErrors: r.counter('senseact_inference_errors_total', 'Policy inferences that threw.'),
      connected: r.gauge('senseact_connected', '1 while connected to the robot.'),
      level: r.gauge('senseact_health_level', 'Rollup health level (0 OK, 1 WARN, 2 ERROR, 3 STALE).'),
      componentLevel: r.gauge('senseact_component_health_level', 'Health level per component.'),
      streamRate: r.gauge('senseact_stream_rate_hertz', 'Measured rate per stream.'),
      streamAge: r.gauge('senseact_stream_age_seconds', 'Age of the newest sample per stream.'),
      streamLevel: r.gauge('senseact_stream_health_level', 'Health level per stream (0 OK … 3 STALE).'),
      streamMasked: r.gauge('senseact_stream_masked', '1 while the stream is hidden from the policy.'),
      stopped: r.gauge('senseact_safe_stop_active', '1 while motion is held by a safe stop (or at startup).'),
      heap: r.gauge('senseact_process_heap_used_bytes', 'V8 heap in use.'),
      rss: r.gauge('senseact_process_resident_memory_bytes', 'Resident set size.'),
      uptime: r.gauge('senseact_uptime_seconds', 'Seconds since the runtime started.'),
    };
  }

  private wire(): void {
    const { robot, logger } = this.o;
    robot.events.on('sample', (raw) => {
      const stream = this.streams.get(raw.stream);
      if (!stream) return;
      const r = stream.push(raw);
      if (r.ok) {
        this.record(r.sample);
        return;
      }
      const reason = r.error.path[0] === 't_capture_ns' ? 'timestamp' : 'malformed';
      const counts = this.rejections.get(raw.stream) ?? {};
      counts[reason] = (counts[reason] ?? 0) + 1;
      this.rejections.set(raw.stream, counts);
      const skipped = this.throttle.allow(`reject:${raw.stream}`, performance.now());
      if (skipped !== null) logger.warn({ stream: raw.stream, reason, error: r.error.message, skipped }, 'sample rejected');
    });
    robot.events.on('malformed', (m) => {
      const skipped = this.throttle.allow(`malformed:${m.topic}`, performance.now());
      if (skipped !== null) logger.warn({ topic: m.topic, reason: m.reason, skipped }, 'malformed message dropped');
    });
    robot.events.on('connection', (state) => {
      logger.info({ state, address: robot.address, reconnects: robot.counters.reconnects }, `robot ${state}`);
    });
    robot.events.on('estop', (engaged) => this.setEstop(engaged, 'topic'));
    const loop = this.loop;
    loop.events.on('report', (report) => {
      const bad = report.components.filter((c) => c.level !== 'OK').map((c) => ({ name: c.name, level: c.level, message: c.message }));
      logger.info({ level: report.level, stop: report.stop, reasons: report.reasons, components: bad, t_ns: report.t_ns }, 'health');
      this.publishHealth(report);
    });
    loop.events.on('stop', (e) => {
      logger.warn({ reasons: e.reasons, level: e.level, sent: e.sent, by: e.by, t_ns: e.t_ns, messages: e.messages, components: e.components }, 'safe stop');
    });
    loop.events.on('resume', (e) => logger.info({ t_ns: e.t_ns, stopped_s: e.stoppedS }, 'resumed'));
    loop.events.on('overrun', (e) => {
      const skipped = this.throttle.allow('overrun', performance.now());
      if (skipped !== null) logger.warn({ t_ns: e.t_ns, cause: e.cause, consecutive: e.consecutive, skipped }, 'tick overrun');
    });
    loop.events.on('dropped', (e) => logger.debug({ reason: e.reason, age_s: e.ageS }, 'action dropped'));
    loop.events.on('error', (err) => logger.error({ err: err.message }, 'control loop error'));
    loop.events.on('tick', (e) => {
      this.m.tick.observe(e.durationS);
      this.m.tickLate.observe(Math.max(0, e.lateS));
    });
    loop.events.on('command', (e) => {
      this.m.inference.observe(e.inferenceS);
      if (e.sampleToCommandS !== null) this.m.s2c.observe(e.sampleToCommandS);
      for (const l of e.limited) this.m.limits.inc(1, { limit: l });
      if (e.sent) this.record({ stream: 'action', t_capture_ns: e.t_ns, t_receive_ns: e.t_ns, seq: this.actionSeq++, data: e.action } as Sample);
    });
    // Stops are commands too: the recording shows what the robot was told, tick by tick.
    loop.events.on('stopSent', (e) =>
      this.record({ stream: 'action', t_capture_ns: e.t_ns, t_receive_ns: e.t_ns, seq: this.actionSeq++, data: { linear: [0, 0, 0], angular: [0, 0, 0], gripper: e.gripper } } as Sample),
    );
  }

  private actionSeq = 0;

  setEstop(engaged: boolean, source: string): void {
    if (engaged === this.monitor.estopEngaged) return;
    this.monitor.setEstop(engaged, source);
    this.o.logger.warn({ engaged, source }, engaged ? 'e-stop engaged' : 'e-stop released');
    this.loop.check();
  }

  ack(): boolean {
    const needed = this.gate.ack();
    this.o.logger.info({ needed, state: this.gate.state }, 'operator acknowledgement');
    return needed;
  }

  /** Warms the policy up on an empty frame, then starts the robot and the loop. */
  async start(): Promise<void> {
    const warm: Frame = { t_ns: 0, slots: {}, masked: [] };
    await this.o.controller.act(warm);
    this.o.controller.reset();
    this.monitor.setWarmedUp();
    await this.o.robot.start();
    this.loop.start();
    const publishMs = 1000 / this.o.config.health.publish_hz;
    this.healthTimer = setInterval(() => {
      const r = this.loop.report;
      if (r) this.publishHealth(r);
    }, publishMs);
    if (this.o.config.recording) this.startRecording();
  }

  private publishHealth(report: HealthReport): void {
    this.o.robot.publishHealth(toDiagnostics(report, this.gate.state, this.o.robot.address), report.t_ns);
  }

  private startRecording(): void {
    const rec = this.o.config.recording!;
    fs.mkdirSync(rec.dir, { recursive: true });
    const checkDisk = () => {
      if (this.recordingOff) return this.monitor.setDisk(null);
      try {
        const st = fs.statfsSync(rec.dir);
        const free = st.bavail * st.bsize;
        this.monitor.setDisk(free, rec.dir);
        if (free < this.o.config.health.disk_error_bytes && this.recorder) {
          this.o.logger.error({ free_bytes: free, dir: rec.dir }, 'disk almost full: recording stopped');
          void this.closeRecorder();
          this.recordingOff = true;
        }
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message }, 'cannot read free disk space');
      }
    };
    checkDisk();
    this.diskTimer = setInterval(checkDisk, 2000);
  }

  private opening = false;

  private record(sample: Sample): void {
    const rec = this.o.config.recording;
    if (!rec || this.recordingOff || this.stopped) return;
    const now = Date.now();
    if (this.recorder && now - this.recorder.openedMs > rec.max_minutes * 60_000) void this.closeRecorder();
    if (!this.recorder) {
      if (this.opening) return;
      this.opening = true;
      const file = path.join(rec.dir, `serve-${new Date().toISOString().replace(/[:.]/g, '-')}.mcap`);
      LogWriter.open(file, {
        meta: { task: 'serve', robot: this.o.robot.address, operator: 'senseact serve', seed: 0, success: null, notes: `policy ${this.o.controller.kind}` },
      })
        .then((writer) => {
          this.recorder = { writer, openedMs: Date.now(), file };
          this.o.logger.info({ file }, 'recording');
        })
        .catch((err: Error) => {
          this.recordingOff = true;
          this.o.logger.error({ err: err.message }, 'cannot record; recording off');
        })
        .finally(() => (this.opening = false));
      return;
    }
    this.recorder.writer.writeValid(sample);
  }

  private async closeRecorder(): Promise<void> {
    const r = this.recorder;
    this.recorder = null;
    if (!r) return;
    try {
      const summary = await r.writer.finalize({ success: null });
      this.o.logger.info({ file: summary.file, messages: summary.messages }, 'recording finalized');
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message, file: r.file }, 'recording finalize failed');
    }
  }

  /** Safe stop, stop the loop, flush: what SIGTERM does. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    if (this.diskTimer) clearInterval(this.diskTimer);
    await this.loop.stop();
    const sent = this.o.robot.safeStop();
    this.o.logger.info({ sent }, 'shutdown: safe stop');
    await this.o.robot.drain(1000);
    await this.o.robot.close();
    await this.closeRecorder();
    this.o.controller.dispose();
  }

  /** /readyz: connected, required streams usable (OK or WARN), policy warmed up. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.o.robot.state !== 'connected') reasons.push(`robot ${this.o.robot.state}`);
    if (!this.monitor.policyWarmedUp) reasons.push('policy not warmed up');
    const report = this.loop.report;
    if (!report) reasons.push('no health report yet');
    else
      for (const [name, s] of Object.entries(report.streams)) {
        if (s.required && levelValue(s.health.level) >= levelValue('ERROR')) reasons.push(`stream ${name} ${s.health.level}: ${s.health.message}`);
      }
    return { ready: reasons.length === 0, reasons };
  }

  /** /status. */
  status(): Record<string, unknown> {
    const report = this.loop.report;
    const robot = this.o.robot;
    const lat = this.monitor.inferenceLatency();
    return {
      state: this.gate.state,
      stop_reason: this.gate.reason || null,
      level: report?.level ?? 'STALE',
      t_ns: report?.t_ns ?? null,
      robot: { kind: robot.kind, address: robot.address, state: robot.state, counters: robot.counters },
      policy: { kind: this.o.controller.kind, backend: this.o.controller.backendName },
      rate_hz: this.o.config.rate_hz,
      loop: { ...this.loop.stats },
      inference_s: { p50: lat.p50, p99: lat.p99, last: lat.last },
      safety: { limited: { ...this.safety.counts }, last_command: this.safety.lastCommand },
      safe_stops: this.gate.stops,
      components: report?.components ?? [],
      streams: Object.fromEntries(
        Object.entries(report?.streams ?? {}).map(([name, s]) => [
          name,
          {
            level: s.health.level,
            message: s.health.message,
            required: s.required,
            masked: s.masked,
            rate_hz: s.health.rate_hz,
            age_s: s.health.age_s,
            counters: s.health.counters,
            rejected_by_reason: this.rejections.get(name) ?? {},
          },
        ]),
      ),
      estop: this.monitor.estopEngaged,
      recording: this.recorder ? this.recorder.file : null,
      ready: this.readiness(),
    };
  }

  /** /metrics, refreshed from the live state at each scrape. */
  metrics(): string {
    const m = this.m;
    const robot = this.o.robot;
    const s = this.loop.stats;
    m.ticks.set(s.ticks);
    m.overruns.set(s.overruns);
    m.commands.set(s.commands);
    m.stopsSent.set(robot.counters.stops_sent);
    m.safeStops.set(this.gate.stops);
    m.dropped.set(s.dropped_stale, { reason: 'stale' });
    m.dropped.set(s.dropped_stopped, { reason: 'stopped' });
    m.suppressed.set(robot.counters.motion_suppressed);
    m.reconnects.set(robot.counters.reconnects);
    m.malformed.set(robot.counters.malformed_frames);
    m.inferenceErrors.set(s.inference_errors);
    for (const [topic, n] of Object.entries(robot.counters.messages)) m.messages.set(n, { topic });
    m.connected.set(robot.state === 'connected' ? 1 : 0);
    const report = this.loop.report;
    if (report) {
      m.level.set(levelValue(report.level));
      for (const c of report.components) m.componentLevel.set(levelValue(c.level), { component: c.name });
      for (const [name, st] of Object.entries(report.streams)) {
        m.streamRate.set(st.health.rate_hz ?? 0, { stream: name });
        m.streamAge.set(st.health.age_s ?? NaN, { stream: name });
        m.streamLevel.set(levelValue(st.health.level), { stream: name });
        m.streamMasked.set(st.masked ? 1 : 0, { stream: name });
        m.samples.set(st.health.counters.accepted, { stream: name });
      }
    }
    for (const [name, counts] of this.rejections) for (const [reason, n] of Object.entries(counts)) m.rejected.set(n, { stream: name, reason });
    m.stopped.set(this.gate.state === 'running' ? 0 : 1);
    const mem = process.memoryUsage();
    m.heap.set(mem.heapUsed);
    m.rss.set(mem.rss);
    m.uptime.set((robot.clock.nowNs() - this.startedAtNs) / 1e9);
    return this.registry.render();
  }
}
