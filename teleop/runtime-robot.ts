// A teleop robot over one of runtime/'s Robot adapters (for ws:// robots:
// runtime's RosbridgeRobot — fresh roslib connection per attempt, stop first
// on every connection, never a queued command, header stamps mapped through
// its clock tracker, own service timeouts). The CLI builds the runtime robot;
// this file only needs its shape, so teleop/ does not reach into runtime/'s
// files. Commands the session sends are also reported as the `action` stream.
import { systemClock } from '../sensors/index.ts';
import type { TeleopAction } from './mixer.ts';
import type { Connection, RawSample, ResetResult, TeleopRobot } from './robot.ts';

/** What this adapter uses of runtime/'s `Robot` (runtime/robot.ts). */
export interface RuntimeRobotLike {
  readonly address: string;
  readonly state: 'connecting' | 'connected' | 'disconnected' | 'closed';
  readonly streams: readonly string[];
  readonly events: {
    on(event: 'sample', listener: (s: RawSample) => void): unknown;
    on(event: 'connection', listener: (s: 'connecting' | 'connected' | 'disconnected' | 'closed') => void): unknown;
  };
  start(): Promise<void>;
  close(): Promise<void>;
  command(action: TeleopAction): boolean;
  callService<T = unknown>(name: string, type: string, args: unknown, timeoutS?: number): Promise<T>;
}

export const SIM_SERVICES = {
  reset: { name: '/senseact/reset', type: 'senseact_msgs/Reset' },
  status: { name: '/senseact/task_status', type: 'senseact_msgs/TaskStatus' },
} as const;

export class RuntimeTeleopRobot implements TeleopRobot {
  readonly name: string;
  readonly streams: readonly string[];
  readonly reportsActions = false;
  onSample: (s: RawSample) => void = () => {};
  onConnection: (c: Connection) => void = () => {};
  private conn: Connection;
  private everConnected = false;
  private actionSeq = 0;

  constructor(
    private readonly robot: RuntimeRobotLike,
    private readonly serviceTimeoutS = 5,
  ) {
    this.name = robot.address;
    this.streams = [...robot.streams, 'action'];
    this.conn = { state: 'connecting', detail: `connecting to ${robot.address}`, since_ms: Date.now() };
    robot.events.on('sample', (s) => this.onSample(s));
    robot.events.on('connection', (state) => {
      const url = robot.address;
      if (state === 'connected') {
        this.everConnected = true;
        this.set('connected', `connected to ${url}`);
      } else if (state === 'disconnected') {
        this.set('disconnected', this.everConnected ? `connection to ${url} lost; reconnecting` : `cannot reach ${url}; retrying`);
      } else if (state === 'closed') {
        this.set('disconnected', 'closed');
      } else if (this.conn.state !== 'disconnected') {
        this.set('connecting', `connecting to ${url}`);
      }
    });
  }

  private set(state: Connection['state'], detail: string): void {
    if (state === this.conn.state && detail === this.conn.detail) return;
    this.conn = { state, detail, since_ms: Date.now() };
    this.onConnection(this.conn);
  }

  connection(): Connection {
    return this.conn;
  }

  /** Starts connecting (reconnecting forever after); resolves once connected or after `waitMs`. */
  async start(waitMs = 5000): Promise<void> {
    await this.robot.start();
    const t0 = Date.now();
    while (this.robot.state !== 'connected' && Date.now() - t0 < waitMs) await new Promise((r) => setTimeout(r, 20));
  }

  command(a: TeleopAction): boolean {
    if (!this.robot.command(a)) return false;
    const now = systemClock.nowNs();
    this.onSample({ stream: 'action', t_capture_ns: now, t_receive_ns: now, seq: this.actionSeq++, data: { linear: [...a.linear], angular: [...a.angular], gripper: a.gripper } });
    return true;
  }

  async reset(seed: number): Promise<ResetResult> {
    try {
      const r = await this.robot.callService<{ success?: boolean; message?: string }>(SIM_SERVICES.reset.name, SIM_SERVICES.reset.type, { seed }, this.serviceTimeoutS);
      return { ok: r?.success !== false, message: r?.message ?? '' };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  }

  async task(): Promise<string | null> {
    try {
      const r = await this.robot.callService<{ task?: unknown }>(SIM_SERVICES.status.name, SIM_SERVICES.status.type, {}, this.serviceTimeoutS);
      return typeof r?.task === 'string' && r.task ? r.task : null;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    await this.robot.close();
  }
}
