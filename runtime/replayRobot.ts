// Replays an MCAP episode log (sensors/ LogReader) as a Robot, in real time or
// faster, for open-loop checks of a policy and for reproducing field incidents
// recorded by `serve` (config `recording`).
//
// Time: the robot's clock is the log's clock, running at `speed` × the wall
// clock from the first message. Samples are released when that clock reaches
// their recorded receive time, with their recorded capture and receive
// times, so streams, health checks and the synchronizer see exactly what the
// robot saw. The control loop runs on the same clock (timeScale = speed).
// Commands go nowhere: they are kept, with the log's own actions, so
// `openLoop()` can compare what the policy did with what was done.
import { EventEmitter } from 'node:events';
import { LogReader, type ActionData, type Clock, type Sample } from '../sensors/index.ts';
import { newCounters, type ConnectionState, type DiagnosticStatus, type Robot, type RobotEvents } from './robot.ts';

/**
 * The log's clock: `speed` × the wall clock from `start`, monotonic, and held
 * back (`holdBack`) when delivery falls behind, so a replay never runs ahead
 * of its own samples (it slows down to what the reader can deliver instead).
 */
export class ScaledClock implements Clock {
  private wall0 = performance.now();
  private lagNs = 0;
  private last = -Infinity;
  constructor(
    private start: number,
    readonly speed: number,
  ) {}
  restart(startNs: number): void {
    this.start = startNs;
    this.wall0 = performance.now();
    this.lagNs = 0;
    this.last = -Infinity;
  }
  /** Delivery is behind: stop time until it reaches `tNs` (clock time of the next sample due). */
  holdBack(tNs: number): void {
    const now = this.raw();
    if (tNs < now) this.lagNs += now - tNs;
  }
  private raw(): number {
    return this.start + (performance.now() - this.wall0) * 1e6 * this.speed - this.lagNs;
  }
  nowNs(): number {
    this.last = Math.max(this.last, Math.round(this.raw()));
    return this.last;
  }
}

export interface ReplayOptions {
  file: string;
  /**
   * Added to every recorded time. Default: 1 s when the log starts before 1 s
   * (simulator logs start at time zero, which sensors/ rejects as an unset clock), else 0.
   */
  shiftNs?: number;
  /** 1 = real time; 10 = ten times faster. */
  speed?: number;
  /** Streams to deliver (default: every stream except actions). */
  streams?: string[];
}

export interface OpenLoopReport {
  commands: number;
  logged_actions: number;
  /** Mean |commanded − logged| per action dimension, at the nearest logged action in time. */
  mean_abs_error: { linear: [number, number, number]; angular: [number, number, number]; gripper: number } | null;
}

export class ReplayRobot implements Robot {
  readonly kind = 'replay';
  readonly events = new EventEmitter<RobotEvents>();
  readonly counters = newCounters();
  readonly clock: ScaledClock;
  readonly timeScale: number;
  streams: readonly string[] = [];
  /** Commands received, on the log clock. */
  readonly commands: { t_ns: number; action: ActionData }[] = [];
  private readonly logged: Sample[] = [];
  private _state: ConnectionState = 'disconnected';
  private reader: LogReader | null = null;
  private iter: AsyncIterator<Sample> | null = null;
  private next: Sample | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private resolveEnded!: () => void;
  /** Resolves when every message has been delivered. */
  readonly ended = new Promise<void>((r) => (this.resolveEnded = r));
  private gripper = 0;
  private shift = 0;

  constructor(private readonly opts: ReplayOptions) {
    const speed = opts.speed ?? 1;
    if (!(speed > 0 && speed <= 1000)) throw new Error(`replay speed must be in (0, 1000], got ${speed}`);
    this.timeScale = speed;
    this.clock = new ScaledClock(0, speed);
  }

  get address(): string {
    return this.opts.file;
  }

  get state(): ConnectionState {
    return this._state;
  }

  async start(): Promise<void> {
    this._state = 'connecting';
    this.events.emit('connection', 'connecting');
    this.reader = await LogReader.open(this.opts.file);
    const names = this.reader.channels.filter((c) => c.kind && c.modality).map((c) => c.stream);
    this.streams = this.opts.streams ?? names.filter((n) => !n.startsWith('action'));
    const wanted = new Set([...this.streams, ...names.filter((n) => n.startsWith('action'))]);
    this.iter = this.reader.samples({ streams: [...wanted] })[Symbol.asyncIterator]();
    const first = await this.iter.next();
    this.next = first.done ? null : first.value;
    this.shift = this.opts.shiftNs ?? (this.next && Math.min(this.next.t_capture_ns, this.next.t_receive_ns) < 1e9 ? 1e9 : 0);
    if (this.next) this.next = this.shifted(this.next);
    this.clock.restart(this.next ? this.next.t_receive_ns : 0);
    this._state = 'connected';
    this.events.emit('connection', 'connected');
    this.timer = setInterval(() => void this.pump(), 2);
    await this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.iter) return;
    this.pumping = true;
    try {
      const now = this.clock.nowNs();
      const t0 = performance.now();
      while (this.next && this.next.t_receive_ns <= now && performance.now() - t0 < 20) {
        const s = this.next;
        this.counters.messages[s.stream] = (this.counters.messages[s.stream] ?? 0) + 1;
        if (s.stream.startsWith('action')) this.logged.push(s);
        else this.events.emit('sample', s);
        const r = await this.iter.next();
        this.next = r.done ? null : this.shifted(r.value);
      }
      if (!this.next) await this.finish();
      // Still behind after this slice: hold the clock so the replay slows down rather than run ahead of its data.
      else if (this.next.t_receive_ns < now - 20e6) this.clock.holdBack(this.next.t_receive_ns);
    } finally {
      this.pumping = false;
    }
  }

  private shifted(s: Sample): Sample {
    if (!this.shift) return s;
    return { ...s, t_capture_ns: s.t_capture_ns + this.shift, t_receive_ns: s.t_receive_ns + this.shift } as Sample;
  }

  private async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.iter = null;
    await this.reader?.close();
    this.reader = null;
    if (this._state !== 'closed') {
      this._state = 'closed';
      this.events.emit('connection', 'closed');
    }
    this.resolveEnded();
  }

  async close(): Promise<void> {
    await this.finish();
  }

  command(action: ActionData): boolean {
    if (this._state !== 'connected') {
      this.counters.motion_suppressed++;
      return false;
    }
    if (this.commands.length < 1_000_000) this.commands.push({ t_ns: this.clock.nowNs(), action });
    this.gripper = action.gripper;
    this.counters.commands_sent++;
    return true;
  }

  safeStop(): boolean {
    if (this._state !== 'connected') return false;
    this.counters.commands_sent++;
    this.counters.stops_sent++;
    if (this.commands.length < 1_000_000) this.commands.push({ t_ns: this.clock.nowNs(), action: { linear: [0, 0, 0], angular: [0, 0, 0], gripper: this.gripper } });
    return true;
  }

  publishHealth(_status: DiagnosticStatus[]): void {}

  async callService<T>(name: string): Promise<T> {
    throw new Error(`${name}: a replayed log has no services`);
  }

  async drain(): Promise<void> {}

  /** Commanded against logged actions (nearest in time). */
  openLoop(): OpenLoopReport {
    const logged = this.logged;
    if (!this.commands.length || !logged.length) return { commands: this.commands.length, logged_actions: logged.length, mean_abs_error: null };
    const err = new Float64Array(7);
    let j = 0;
    for (const c of this.commands) {
      while (j + 1 < logged.length && Math.abs(logged[j + 1].t_capture_ns - c.t_ns) <= Math.abs(logged[j].t_capture_ns - c.t_ns)) j++;
      const a = logged[j].data as ActionData;
      for (let i = 0; i < 3; i++) {
        err[i] += Math.abs(c.action.linear[i] - a.linear[i]);
        err[3 + i] += Math.abs(c.action.angular[i] - a.angular[i]);
      }
      err[6] += Math.abs(c.action.gripper - a.gripper);
    }
    const n = this.commands.length;
    const m = (i: number) => err[i] / n;
    return {
      commands: n,
      logged_actions: logged.length,
      mean_abs_error: { linear: [m(0), m(1), m(2)], angular: [m(3), m(4), m(5)], gripper: m(6) },
    };
  }
}
