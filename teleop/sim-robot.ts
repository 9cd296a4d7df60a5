// The simulator in-process as a teleop robot: sim/'s LiveSim steps the env
// against the wall clock and releases each sample at its capture time, with
// the same 0.5 s command watchdog as `sim serve`. Sample times are mapped from
// sim time (0 at each reset) to wall-clock epoch ns, so one dataset holds
// episodes on one clock whatever the robot.
import { systemClock } from '../sensors/index.ts';
import { LiveSim, SimEnv, STREAMS, type CameraSource, type TaskName } from '../sim/index.ts';
import type { TeleopAction } from './mixer.ts';
import type { Connection, RawSample, ResetResult, TeleopRobot } from './robot.ts';

export interface SimRobotOptions {
  task: TaskName;
  /** Seed of the first world (before the first episode's reset). */
  seed: number;
  camera: CameraSource | null;
}

export class SimTeleopRobot implements TeleopRobot {
  readonly name = 'senseact-sim';
  readonly streams: readonly string[];
  readonly reportsActions = true;
  onSample: (s: RawSample) => void = () => {};
  onConnection: (c: Connection) => void = () => {};
  readonly env: SimEnv;
  readonly live: LiveSim;
  private conn: Connection = { state: 'connecting', detail: 'starting the simulator', since_ms: Date.now() };

  constructor(private readonly opts: SimRobotOptions) {
    this.env = new SimEnv({ task: opts.task, camera: opts.camera });
    this.live = new LiveSim(this.env);
    this.streams = [
      ...(opts.camera ? [STREAMS.camera] : []),
      STREAMS.tactileLeft,
      STREAMS.tactileRight,
      STREAMS.smell,
      STREAMS.proprio,
      STREAMS.action,
    ];
    this.live.onSample = (s) => {
      const now = systemClock.nowNs();
      // The sample was captured (live.nowNs() − t) ns of sim time ago, which runs with the wall clock.
      const capture = Math.min(now, Math.round(now - (this.live.nowNs() - s.t_capture_ns)));
      this.onSample({ stream: s.stream, t_capture_ns: capture, t_receive_ns: now, seq: s.seq, data: s.data });
    };
    this.live.onError = (err) => this.setConnection('disconnected', `simulation step failed: ${err.message}`);
  }

  connection(): Connection {
    return this.conn;
  }

  private setConnection(state: Connection['state'], detail: string): void {
    this.conn = { state, detail, since_ms: Date.now() };
    this.onConnection(this.conn);
  }

  async start(): Promise<void> {
    await this.live.start(this.opts.seed);
    this.setConnection('connected', `simulator running ${this.opts.task} in-process`);
  }

  command(a: TeleopAction): boolean {
    if (this.conn.state !== 'connected') return false;
    this.live.setTwist(a.linear, a.angular);
    this.live.setGripper(a.gripper);
    return true;
  }

  async reset(seed: number): Promise<ResetResult> {
    await this.live.reset(seed);
    return { ok: true, message: `reset ${this.opts.task} with seed ${seed}` };
  }

  async task(): Promise<string | null> {
    return this.opts.task;
  }

  async close(): Promise<void> {
    await this.live.stop();
    this.env.close();
    this.setConnection('disconnected', 'simulator stopped');
  }
}
