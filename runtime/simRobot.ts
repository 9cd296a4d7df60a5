// The simulator in this process, as a Robot: the real-time LiveSim (the same
// stepping `sim serve` uses, with its 0.5 s twist watchdog), no network.
// Sim capture times are mapped onto our clock; receive time is when the
// sample reaches us.
import { EventEmitter } from 'node:events';
import { systemClock, type ActionData, type Clock } from '../sensors/index.ts';
import { LiveSim, SimEnv, type TaskName } from '../sim/index.ts';
import { newCounters, type ConnectionState, type DiagnosticStatus, type Robot, type RobotEvents } from './robot.ts';

export interface SimRobotOptions {
  task: TaskName;
  seed?: number;
  /** Render the wrist camera (needs WebGPU). */
  camera?: boolean;
  /** Also the fixed scene camera (camera/scene), with the wrist camera. */
  sceneCamera?: boolean;
  clock?: Clock;
}

export class SimRobot implements Robot {
  readonly kind = 'sim';
  readonly events = new EventEmitter<RobotEvents>();
  readonly counters = newCounters();
  readonly clock: Clock;
  readonly streams: readonly string[];
  private _state: ConnectionState = 'disconnected';
  private live: LiveSim | null = null;
  private env: SimEnv | null = null;
  private gripper = 0;
  /** The last health published (the sim has no topic for it; kept for inspection). */
  lastHealth: DiagnosticStatus[] = [];

  constructor(private readonly opts: SimRobotOptions) {
    this.clock = opts.clock ?? systemClock;
    this.streams = ['tactile/left', 'tactile/right', 'smell', 'proprio', ...(opts.camera ? ['camera/wrist'] : []), ...(opts.camera && opts.sceneCamera ? ['camera/scene'] : [])];
  }

  get address(): string {
    return `sim:${this.opts.task}`;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The env being simulated (for tests and benchmarks). */
  get simEnv(): SimEnv | null {
    return this.env;
  }

  async start(): Promise<void> {
    this._state = 'connecting';
    this.events.emit('connection', 'connecting');
    let camera = null;
    if (this.opts.camera) camera = await (await import('../sim/index.ts')).createNodeCamera({ scene: this.opts.sceneCamera ?? false });
    this.env = new SimEnv({ task: this.opts.task, camera });
    this.live = new LiveSim(this.env);
    this.live.onSample = (s) => {
      if (!this.live) return;
      const now = this.clock.nowNs();
      // Sim time follows the wall clock: the offset maps sim capture times onto our clock.
      const offset = now - this.live.nowNs();
      this.counters.messages[s.stream] = (this.counters.messages[s.stream] ?? 0) + 1;
      if (s.stream === 'action') return;
      this.events.emit('sample', { stream: s.stream, t_capture_ns: Math.round(s.t_capture_ns + offset), t_receive_ns: now, seq: s.seq, data: s.data });
    };
    await this.live.start(this.opts.seed ?? 0);
    this._state = 'connected';
    this.live.setTwist([0, 0, 0], [0, 0, 0]);
    this.counters.stops_sent++;
    this.events.emit('connection', 'connected');
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this.safeStop();
    this.live?.stop();
    this.env?.close();
    this.live = null;
    this.env = null;
    this._state = 'closed';
    this.events.emit('connection', 'closed');
  }

  command(a: ActionData): boolean {
    if (!this.live || this._state !== 'connected') {
      this.counters.motion_suppressed++;
      return false;
    }
    this.live.setTwist([a.linear[0], a.linear[1], a.linear[2]], [a.angular[0], a.angular[1], a.angular[2]]);
    this.live.setGripper(a.gripper);
    this.gripper = a.gripper;
    this.counters.commands_sent++;
    return true;
  }

  safeStop(): boolean {
    if (!this.live || this._state !== 'connected') return false;
    this.live.setTwist([0, 0, 0], [0, 0, 0]);
    this.live.setGripper(this.gripper);
    this.counters.commands_sent++;
    this.counters.stops_sent++;
    return true;
  }

  publishHealth(status: DiagnosticStatus[]): void {
    this.lastHealth = status;
  }

  async callService<T = unknown>(name: string, _type: string, args: unknown): Promise<T> {
    if (!this.live || !this.env) throw new Error(`${name}: the simulator is not running`);
    if (name.endsWith('/reset')) {
      const seed = (args as { seed?: unknown })?.seed;
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) throw new Error(`${name}: invalid request: seed must be a whole number ≥ 0`);
      await this.live.reset(seed);
      return { success: true, message: `reset ${this.env.taskName} with seed ${seed}` } as T;
    }
    if (name.endsWith('/task_status')) {
      const env = this.env;
      return { task: env.taskName, step: env.tick, success: env.success(), done: env.done() } as T;
    }
    throw new Error(`service ${name} does not exist`);
  }

  async drain(): Promise<void> {}
}
