// The recording session: one robot, one dataset directory, episodes recorded
// one at a time by teleoperation. The terminal (`senseact record`) and the
// web app (`senseact ui`) drive the same class.
//
//   idle ──start──► resetting ──► recording ──save success|failure──► idle (episode durable on disk)
//                                    │  └──discard──────────────────► idle (take deleted)
//                                    └──rerecord: discard, then start again at the same index and seed
//
// Each episode is one MCAP log through sensors' LogWriter: chunks reach the
// disk while recording (a crash loses at most ~0.5 s) and `save` only writes
// the summary and renames NAME.mcap.partial → NAME.mcap, which takes
// milliseconds. Opening an existing directory resumes it: the next episode
// takes the next free index.
//
// Every stream is watched by a sensors/ Stream; while recording, a stream that
// leaves OK (rate below expected, stale, bad samples) raises a warning at once.
import fs from 'node:fs';
import path from 'node:path';
import { LogWriter, Stream, levelValue, streamConfig, systemClock, type Clock, type Level, type LogSummary } from '../sensors/index.ts';
import type { TeleopConfig } from './config.ts';
import { TeleopMixer, type AxisInput } from './mixer.ts';
import type { Connection, RawSample, TeleopRobot } from './robot.ts';

export type SessionState = 'idle' | 'resetting' | 'recording' | 'saving' | 'closed';
export type EpisodeCommand = 'start' | 'save_success' | 'save_failure' | 'discard' | 'rerecord';

export interface StreamStatus {
  stream: string;
  level: Level;
  message: string;
  rate_hz: number | null;
  expected_hz: number;
  age_s: number | null;
  /** Samples written to the current take. */
  recorded: number;
}

export interface SavedEpisode {
  index: number;
  file: string;
  success: boolean;
  messages: number;
  streams: Record<string, number>;
  duration_s: number;
}

export interface SessionStatus {
  state: SessionState;
  task: string;
  robot: string;
  out_dir: string;
  /** Index of the take being recorded, or of the next one. */
  episode: number;
  /** Seed of the take being recorded, or of the next one. */
  seed: number;
  /** Seed of the world the robot shows now (last reset), or null before the first reset. */
  scene_seed: number | null;
  recording_s: number;
  saved: SavedEpisode[];
  discarded: number;
  episodes_in_dataset: number;
  connection: Connection;
  streams: StreamStatus[];
  /** Streams that are not OK while recording, "stream: LEVEL message". */
  warnings: string[];
  command: { linear: number[]; angular: number[]; gripper: number; engaged: boolean; sources: string[] };
}

export interface SessionEvent {
  level: 'info' | 'warn' | 'error';
  kind: 'started' | 'saved' | 'discarded' | 'warning' | 'recovered' | 'connection' | 'error' | 'info';
  message: string;
  t_ms: number;
  episode?: SavedEpisode;
}

export interface CommandResult {
  ok: boolean;
  message: string;
}

export interface SessionOptions {
  robot: TeleopRobot;
  outDir: string;
  task: string;
  config: TeleopConfig;
  /** Episode i is reset with seed `seed + i`. */
  seed?: number;
  clock?: Clock;
  notes?: string;
}

const EPISODE_RE = /-episode(\d{6})\.mcap(\.partial|\.orig)?$/;

export function episodeFile(task: string, index: number): string {
  return `${task}-episode${String(index).padStart(6, '0')}.mcap`;
}

/** The dataset's next free episode index (past every finalized, partial or backup log) and what is there. */
export function scanDataset(dir: string): { next: number; finalized: number; partial: string[] } {
  let next = 0;
  let finalized = 0;
  const partial: string[] = [];
  if (!fs.existsSync(dir)) return { next, finalized, partial };
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith('.mcap')) finalized++;
    if (name.endsWith('.mcap.partial')) partial.push(name);
    const m = EPISODE_RE.exec(name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return { next, finalized, partial };
}

export class RecordingSession {
  readonly mixer: TeleopMixer;
  private state: SessionState = 'idle';
  private streams = new Map<string, Stream>();
  private writer: LogWriter | null = null;
  private writerIndex = -1;
  private recordStartNs = 0;
  private recorded = new Map<string, number>();
  private index = 0;
  private sceneSeed: number | null = null;
  private readonly saved: SavedEpisode[] = [];
  private discarded = 0;
  private finalizedInDir = 0;
  private readonly listeners = new Set<(e: SessionEvent) => void>();
  private readonly history: SessionEvent[] = [];
  private ops: Promise<unknown> = Promise.resolve();
  private loop: NodeJS.Timeout | null = null;
  private lastTickMs = 0;
  private nextTickMs = 0;
  private stopTicksLeft = 0;
  private lastSentGripper = NaN;
  private lastCommand = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0, engaged: false, sources: [] as string[] };
  /** The level last reported per stream while recording, and since when a reported stream is OK again. */
  private readonly lastLevel = new Map<string, Level>();
  private readonly okSince = new Map<string, number>();
  private ticks = 0;
  private readonly clock: Clock;
  private readonly baseSeed: number;

  private constructor(private readonly opts: SessionOptions) {
    this.clock = opts.clock ?? systemClock;
    this.baseSeed = opts.seed ?? 0;
    this.mixer = new TeleopMixer(opts.config);
    this.makeStreams();
  }

  /** Opens (or creates) the dataset directory and starts the command loop. The robot must be started. */
  static async open(opts: SessionOptions): Promise<RecordingSession> {
    fs.mkdirSync(opts.outDir, { recursive: true });
    const s = new RecordingSession(opts);
    const scan = scanDataset(opts.outDir);
    s.index = scan.next;
    s.finalizedInDir = scan.finalized;
    opts.robot.onSample = (raw) => s.onSample(raw);
    opts.robot.onConnection = (c) => s.emit(c.state === 'connected' ? 'info' : 'warn', 'connection', c.detail);
    if (scan.partial.length) {
      s.emit('warn', 'info', `${opts.outDir} holds ${scan.partial.length} unfinalized log(s) from an earlier crash (${scan.partial.join(', ')}); recover them with \`senseact dataset repair FILE\``);
    }
    s.emit('info', 'info', scan.finalized ? `resuming ${opts.outDir}: ${scan.finalized} episode(s) there, next is #${scan.next}` : `new dataset in ${opts.outDir}`);
    s.lastTickMs = performance.now();
    s.nextTickMs = s.lastTickMs;
    s.schedule();
    return s;
  }

  /** The command loop on a drift-free schedule (setInterval slips under load, and the action stream's rate with it). */
  private schedule(): void {
    const period = 1000 / this.opts.config.control_hz;
    const now = performance.now();
    this.nextTickMs += period;
    if (this.nextTickMs < now - period) this.nextTickMs = now; // far behind (a long stall): no burst of catch-up ticks
    this.loop = setTimeout(() => {
      this.loop = null;
      if (this.state === 'closed') return;
      this.tick();
      this.schedule();
    }, Math.max(0, this.nextTickMs - now));
  }

  /** Subscribes to events; `replay` first delivers the recent ones (what happened before the listener came). */
  on(listener: (e: SessionEvent) => void, replay = false): () => void {
    if (replay) for (const e of this.history) listener(e);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last events, oldest first. */
  recentEvents(): SessionEvent[] {
    return [...this.history];
  }

  private emit(level: SessionEvent['level'], kind: SessionEvent['kind'], message: string, episode?: SavedEpisode): void {
    const e: SessionEvent = { level, kind, message, t_ms: Date.now(), ...(episode ? { episode } : {}) };
    this.history.push(e);
    if (this.history.length > 100) this.history.shift();
    for (const l of this.listeners) l(e);
  }

  private makeStreams(): void {
    const cfg = this.opts.config;
    this.streams = new Map();
    for (const name of this.opts.robot.streams) this.streams.set(name, this.makeStream(name));
    this.lastLevel.clear();
  }

  private makeStream(name: string): Stream {
    const cfg = this.opts.config;
    const overrides: Record<string, unknown> = { ...(name === 'action' ? { expected_hz: cfg.control_hz } : {}), ...(cfg.streams[name] ?? {}) };
    const hz = (overrides.expected_hz as number | undefined) ?? streamConfig(name).expected_hz;
    overrides.stale_after_s ??= Math.max(2 / hz, cfg.health.stale_floor_s);
    // Warn when a stream falls below its rate; bursts after a delivery stall read as "above" and are not a sensor fault.
    overrides.max_hz ??= hz * cfg.health.max_rate_factor;
    return new Stream(name, { clock: this.clock, config: overrides });
  }

  private onSample(raw: RawSample): void {
    let stream = this.streams.get(raw.stream);
    if (!stream) {
      // A stream nobody announced: watch it too, at its modality's default rate.
      try {
        stream = this.makeStream(raw.stream);
      } catch {
        return; // not a senseact stream name
      }
      this.streams.set(raw.stream, stream);
    }
    const pushed = stream.push(raw);
    if (this.state !== 'recording' || !this.writer) return;
    const r = pushed.ok ? this.writer.writeValid(pushed.sample) : this.writer.write(raw);
    if (r.ok) this.recorded.set(raw.stream, (this.recorded.get(raw.stream) ?? 0) + 1);
  }

  // ------------------------------------------------------------ teleop input

  /** Holds operator input from `source` (dead-man: it expires unless refreshed). */
  hold(source: string, input: AxisInput, ttlMs?: number): void {
    this.mixer.hold(source, input, performance.now(), ttlMs);
  }

  release(source: string): void {
    this.mixer.release(source);
  }

  gripper(action: 'toggle' | 'open' | 'close'): void {
    if (action === 'toggle') this.mixer.toggleGripper();
    else this.mixer.setGripper(action === 'close' ? 1 : 0);
  }

  private tick(): void {
    const now = performance.now();
    const dt = (now - this.lastTickMs) / 1000;
    this.lastTickMs = now;
    const r = this.mixer.tick(now, dt);
    if (r.engaged) this.stopTicksLeft = this.opts.config.deadman.stop_ticks;
    const gripperChanged = r.action.gripper !== this.lastSentGripper;
    // Publish while recording (the log's action stream is exactly what was sent), while an
    // input is held, on a gripper change, and for a few ticks after the last input lets go.
    if (this.state === 'recording' || r.engaged || gripperChanged || this.stopTicksLeft > 0) {
      if (this.opts.robot.command(r.action)) this.lastSentGripper = r.action.gripper;
      if (!r.engaged && this.stopTicksLeft > 0) this.stopTicksLeft--;
    }
    this.lastCommand = { linear: r.action.linear, angular: r.action.angular, gripper: r.action.gripper, engaged: r.engaged, sources: r.sources };
    if (++this.ticks % 2 === 0) this.checkHealth();
  }

  /**
   * While recording: a stream that gets worse is reported at once; one that was reported is
   * cleared once it has been OK for `recover_after_s` (no flapping).
   */
  private checkHealth(): void {
    if (this.state !== 'recording') return;
    const t = this.clock.nowNs();
    const h = this.opts.config.health;
    const sinceStart = (t - this.recordStartNs) / 1e9;
    if (sinceStart < h.warn_after_start_s) return;
    for (const [name, s] of this.streams) {
      // After a reset the streams start over: a slow stream (smell, 2 Hz) is not missing before its first period is up.
      if (s.counters.accepted === 0 && sinceStart < s.config.stale_after_s) continue;
      const v = s.health(t);
      const prev = this.lastLevel.get(name) ?? 'OK';
      if (v.level === 'OK') {
        if (prev === 'OK') continue;
        const since = this.okSince.get(name) ?? t;
        this.okSince.set(name, since);
        if ((t - since) / 1e9 >= h.recover_after_s) {
          this.lastLevel.set(name, 'OK');
          this.okSince.delete(name);
          this.emit('info', 'recovered', `${name}: OK again`);
        }
        continue;
      }
      this.okSince.delete(name);
      if (levelValue(v.level) > levelValue(prev)) {
        this.lastLevel.set(name, v.level);
        this.emit('warn', 'warning', `${name}: ${v.level} ${v.message}`);
      }
    }
  }

  // ------------------------------------------------------------ episodes

  /** Runs episode commands one at a time, in the order given. */
  command(cmd: EpisodeCommand, notes?: string): Promise<CommandResult> {
    const run = async (): Promise<CommandResult> => {
      try {
        switch (cmd) {
          case 'start':
            return await this.start();
          case 'save_success':
            return await this.save(true, notes);
          case 'save_failure':
            return await this.save(false, notes);
          case 'discard':
            return await this.discard();
          case 'rerecord':
            return await this.rerecord();
        }
      } catch (err) {
        const message = `${cmd} failed: ${(err as Error).message}`;
        this.emit('error', 'error', message);
        return { ok: false, message };
      }
    };
    const p = this.ops.then(run, run);
    this.ops = p;
    return p;
  }

  private seedOf(index: number): number {
    return (this.baseSeed + index) >>> 0;
  }

  private async start(): Promise<CommandResult> {
    if (this.state === 'closed') return { ok: false, message: 'the session is closed' };
    if (this.state !== 'idle') return { ok: false, message: `already ${this.state} episode #${this.writerIndex}` };
    if (this.opts.robot.connection().state !== 'connected') return { ok: false, message: `robot not connected (${this.opts.robot.connection().detail})` };
    this.state = 'resetting';
    const index = this.index;
    const seed = this.seedOf(index);
    try {
      const reset = await this.opts.robot.reset(seed);
      if (reset.ok) {
        this.sceneSeed = seed;
        // A new world: the streams start over, so the reset's pause does not read as a rate drop.
        this.makeStreams();
      } else {
        this.emit('warn', 'info', `no reset before episode #${index} (${reset.message}); recording from the robot's current state`);
      }
      const file = path.join(this.opts.outDir, episodeFile(this.opts.task, index));
      this.writer = await LogWriter.open(file, {
        meta: {
          task: this.opts.task,
          robot: this.opts.robot.name,
          operator: this.opts.config.operator || process.env.USER || 'operator',
          seed,
          success: null,
          notes: this.opts.notes ?? 'teleoperated demonstration (senseact record)',
          reset: reset.ok ? 'ok' : reset.message,
          episode_index: index,
          calibration: { control_hz: this.opts.config.control_hz, speeds: this.opts.config.speeds },
        },
      });
    } catch (err) {
      this.state = 'idle';
      throw err;
    }
    this.writerIndex = index;
    this.recorded = new Map();
    this.lastLevel.clear();
    this.okSince.clear();
    this.recordStartNs = this.clock.nowNs();
    this.state = 'recording';
    this.emit('info', 'started', `recording episode #${index} (seed ${seed})`);
    return { ok: true, message: `recording episode #${index}` };
  }

  private async save(success: boolean, notes?: string): Promise<CommandResult> {
    if (this.state !== 'recording' || !this.writer) return { ok: false, message: 'not recording' };
    this.state = 'saving';
    const writer = this.writer;
    this.writer = null;
    const duration = (this.clock.nowNs() - this.recordStartNs) / 1e9;
    let log: LogSummary;
    try {
      log = await writer.finalize({ success, duration_s: duration, ...(notes ? { notes } : {}) });
    } catch (err) {
      this.state = 'idle';
      throw err;
    }
    const ep: SavedEpisode = { index: this.writerIndex, file: log.file, success, messages: log.messages, streams: log.streams, duration_s: duration };
    this.saved.push(ep);
    this.finalizedInDir++;
    this.index = Math.max(this.index, this.writerIndex + 1);
    this.state = 'idle';
    const missing = this.opts.robot.streams.filter((s) => !log.streams[s]);
    const counts = Object.entries(log.streams)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    this.emit(missing.length ? 'warn' : 'info', 'saved', `saved episode #${ep.index} as ${success ? 'success' : 'failure'}: ${path.basename(log.file)}, ${duration.toFixed(1)} s, ${counts}${missing.length ? `; NO samples from ${missing.join(', ')}` : ''}`, ep);
    return { ok: true, message: `saved ${log.file}` };
  }

  private async discard(): Promise<CommandResult> {
    if (this.state !== 'recording' || !this.writer) return { ok: false, message: 'not recording' };
    const writer = this.writer;
    this.writer = null;
    this.state = 'saving';
    await writer.discard();
    this.discarded++;
    this.state = 'idle';
    this.emit('info', 'discarded', `discarded the take of episode #${this.writerIndex}`);
    return { ok: true, message: `discarded episode #${this.writerIndex}` };
  }

  private async rerecord(): Promise<CommandResult> {
    if (this.state === 'recording') await this.discard();
    return this.start();
  }

  // ------------------------------------------------------------ status

  status(): SessionStatus {
    const t = this.clock.nowNs();
    const streams: StreamStatus[] = [];
    const warnings: string[] = [];
    for (const [name, s] of this.streams) {
      const h = { ...s.health(t) };
      if (name === 'action' && !this.opts.robot.reportsActions && this.state !== 'recording' && h.level === 'STALE') {
        // Our own commands: none are sent while idle and nobody holds an input, which is no fault.
        h.level = 'OK';
        h.message = 'no command sent (idle)';
      }
      streams.push({ stream: name, level: h.level, message: h.message, rate_hz: h.rate_hz, expected_hz: s.config.expected_hz, age_s: h.age_s, recorded: this.recorded.get(name) ?? 0 });
      if (this.state === 'recording' && h.level !== 'OK') warnings.push(`${name}: ${h.level} ${h.message}`);
    }
    const recording = this.state === 'recording' || this.state === 'saving';
    return {
      state: this.state,
      task: this.opts.task,
      robot: this.opts.robot.name,
      out_dir: this.opts.outDir,
      episode: recording ? this.writerIndex : this.index,
      seed: this.seedOf(recording ? this.writerIndex : this.index),
      scene_seed: this.sceneSeed,
      recording_s: recording ? (t - this.recordStartNs) / 1e9 : 0,
      saved: [...this.saved],
      discarded: this.discarded,
      episodes_in_dataset: this.finalizedInDir,
      connection: this.opts.robot.connection(),
      streams,
      warnings,
      command: this.lastCommand,
    };
  }

  /** Stops the loop; an unsaved take is discarded (say so); the robot is told to stop. */
  async close(): Promise<void> {
    await this.ops.catch(() => {});
    if (this.state === 'closed') return;
    if (this.state === 'recording' && this.writer) {
      await this.writer.discard();
      this.writer = null;
      this.discarded++;
      this.emit('warn', 'discarded', `discarded the unsaved take of episode #${this.writerIndex} (quit while recording)`);
    }
    this.state = 'closed';
    if (this.loop) clearTimeout(this.loop);
    this.loop = null;
    this.mixer.releaseAll();
    this.opts.robot.command({ linear: [0, 0, 0], angular: [0, 0, 0], gripper: this.mixer.gripper });
  }
}
