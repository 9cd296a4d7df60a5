// A robot for session tests: every stream at a chosen rate on the system
// clock (real timers, real sensors/ Streams and LogWriter), streams that can
// be stopped or slowed, and a record of the commands and resets it received.
import { systemClock } from '../../sensors/index.ts';
import type { Connection, RawSample, ResetResult, TeleopAction, TeleopRobot } from '../../teleop/index.ts';

export const FAKE_RATES: Record<string, number> = {
  'camera/wrist': 10,
  'tactile/left': 50,
  smell: 2,
  proprio: 50,
  action: 20,
};

export class FakeRobot implements TeleopRobot {
  readonly name = 'fake-robot';
  readonly streams = Object.keys(FAKE_RATES);
  readonly reportsActions = true;
  onSample: (s: RawSample) => void = () => {};
  onConnection: (c: Connection) => void = () => {};
  readonly commands: TeleopAction[] = [];
  readonly resets: number[] = [];
  /** Per stream: period (ns) and when its next sample is due; one poll timer emits every sample due. */
  private readonly due = new Map<string, { periodNs: number; nextNs: number }>();
  private poll: NodeJS.Timeout | null = null;
  private readonly seq = new Map<string, number>();
  private last: TeleopAction = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };
  private conn: Connection = { state: 'connected', detail: 'fake', since_ms: Date.now() };

  connection(): Connection {
    return this.conn;
  }

  async start(): Promise<void> {
    for (const [stream, hz] of Object.entries(FAKE_RATES)) this.setRate(stream, hz);
    // Samples carry the time they were due, so a busy test machine delays delivery but not the rate.
    this.poll = setInterval(() => {
      const now = systemClock.nowNs();
      for (const [stream, d] of this.due) {
        while (d.nextNs <= now) {
          this.emit(stream, d.nextNs, now);
          d.nextNs += d.periodNs;
        }
      }
    }, 5);
  }

  /** Changes a stream's rate; 0 stops it. */
  setRate(stream: string, hz: number): void {
    if (hz > 0) this.due.set(stream, { periodNs: 1e9 / hz, nextNs: systemClock.nowNs() });
    else this.due.delete(stream);
  }

  private emit(stream: string, captureNs: number, now: number): void {
    const seq = this.seq.get(stream) ?? 0;
    this.seq.set(stream, seq + 1);
    const v = seq % 7;
    const data =
      stream === 'camera/wrist'
        ? { encoding: 'rgb8', width: 4, height: 4, frame_id: 'cam', data: new Uint8Array(48).fill(v * 10) }
        : stream.startsWith('tactile')
          ? { pad: 'left', rows: 4, cols: 4, forces: new Float32Array(48).fill(v / 100) }
          : stream === 'smell'
            ? { channels: ['ch0'], units: ['ohm'], values: [10_000 + v], temperature_c: 25, humidity_pct: 40, heater_step: 0, warmed_up: true }
            : stream === 'proprio'
              ? { names: ['arm'], position: [v / 100], velocity: [0], effort: [0], gripper_opening: 0.05, gripper_force: 0 }
              : { linear: [...this.last.linear], angular: [...this.last.angular], gripper: this.last.gripper };
    this.onSample({ stream, t_capture_ns: Math.round(captureNs), t_receive_ns: now, seq, data });
  }

  command(a: TeleopAction): boolean {
    this.last = { linear: [...a.linear], angular: [...a.angular], gripper: a.gripper };
    this.commands.push(this.last);
    return this.conn.state === 'connected';
  }

  async reset(seed: number): Promise<ResetResult> {
    this.resets.push(seed);
    return { ok: true, message: `reset ${seed}` };
  }

  async task(): Promise<string | null> {
    return 'fake-task';
  }

  disconnect(): void {
    this.conn = { state: 'disconnected', detail: 'unplugged', since_ms: Date.now() };
    this.onConnection(this.conn);
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.due.clear();
  }
}
