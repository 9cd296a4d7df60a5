// A robot behind rosbridge (a real one, or `senseact sim serve`) over roslib.
//
// roslib facts this works around (PLATFORM.md): it does not reconnect by
// itself, so we call connect() again every `retryMs` after a drop; it queues
// publishes made while disconnected and bursts them on reconnect, so nothing
// is published unless connected, and the first command after a reconnect is a
// stop; a service call made while disconnected is answered late, so calls are
// refused while disconnected and time out on our side.
//
// Interim: runtime/'s RosbridgeRobot (#8) will own this; then this file
// becomes an adapter over it.
import * as ROSLIB from 'roslib';
import { systemClock } from '../sensors/index.ts';
import type { TeleopAction } from './mixer.ts';
import type { Connection, RawSample, ResetResult, TeleopRobot } from './robot.ts';
import { normalForce, ROS_INPUTS, ROS_OUTPUTS, rosToSample } from './ros-samples.ts';

export interface RosRobotOptions {
  url: string;
  /** Delay between reconnect attempts, ms. */
  retryMs?: number;
  serviceTimeoutS?: number;
  /** Skip the camera topic (e.g. a robot without one). */
  camera?: boolean;
}

export class RosTeleopRobot implements TeleopRobot {
  readonly name: string;
  readonly streams: readonly string[];
  readonly reportsActions = false;
  onSample: (s: RawSample) => void = () => {};
  onConnection: (c: Connection) => void = () => {};
  private readonly ros: ROSLIB.Ros;
  private conn: Connection;
  private readonly topics: ROSLIB.Topic<unknown>[] = [];
  private twist!: ROSLIB.Topic<unknown>;
  private gripper!: ROSLIB.Topic<unknown>;
  private readonly seq = new Map<string, number>();
  private readonly firstNs = new Map<string, number>();
  private readonly grip = [0, 0];
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private needStop = false;
  private actionSeq = 0;
  private everConnected = false;

  constructor(private readonly opts: RosRobotOptions) {
    this.name = opts.url;
    const inputs = ROS_INPUTS.filter((i) => opts.camera !== false || !i.stream.startsWith('camera'));
    this.streams = [...inputs.map((i) => i.stream), 'action'];
    this.conn = { state: 'connecting', detail: `connecting to ${opts.url}`, since_ms: Date.now() };
    this.ros = new ROSLIB.Ros({});
    this.ros.on('connection', () => {
      this.everConnected = true;
      this.needStop = true;
      this.setConnection('connected', `connected to ${opts.url}`);
    });
    this.ros.on('close', () => {
      if (this.closed) return;
      // Every failed connect emits error then close: report once per state change, retry on a timer.
      if (this.conn.state !== 'disconnected') this.setConnection('disconnected', this.everConnected ? `connection to ${opts.url} lost; retrying` : `cannot reach ${opts.url}; retrying`);
      this.scheduleRetry();
    });
    this.ros.on('error', () => {});
    for (const input of inputs) {
      const t = new ROSLIB.Topic<unknown>({ ros: this.ros, name: input.topic, messageType: input.type });
      t.subscribe((msg) => this.receive(input.stream, msg));
      this.topics.push(t);
    }
    this.twist = new ROSLIB.Topic({ ros: this.ros, name: ROS_OUTPUTS.twist.topic, messageType: ROS_OUTPUTS.twist.type });
    this.gripper = new ROSLIB.Topic({ ros: this.ros, name: ROS_OUTPUTS.gripper.topic, messageType: ROS_OUTPUTS.gripper.type });
  }

  connection(): Connection {
    return this.conn;
  }

  private setConnection(state: Connection['state'], detail: string): void {
    this.conn = { state, detail, since_ms: Date.now() };
    this.onConnection(this.conn);
  }

  private scheduleRetry(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed || this.ros.isConnected) return;
      this.ros.connect(this.opts.url).catch(() => {});
    }, this.opts.retryMs ?? 1000);
  }

  /** Connects (retrying in the background); resolves at the first connection or after `waitMs`. */
  async start(waitMs = 5000): Promise<void> {
    this.ros.connect(this.opts.url).catch(() => {});
    const t0 = Date.now();
    while (!this.ros.isConnected && Date.now() - t0 < waitMs) await new Promise((r) => setTimeout(r, 20));
  }

  private receive(stream: string, msg: unknown): void {
    const now = systemClock.nowNs();
    const seq = this.seq.get(stream) ?? 0;
    this.seq.set(stream, seq + 1);
    if (!this.firstNs.has(stream)) this.firstNs.set(stream, now);
    const sample = rosToSample(stream, msg, {
      stream,
      receiveNs: now,
      seq,
      gripForce: (this.grip[0] + this.grip[1]) / 2,
      sinceFirstS: (now - this.firstNs.get(stream)!) / 1e9,
    });
    if (stream === 'tactile/left' || stream === 'tactile/right') {
      const f = (sample.data as { forces?: Float32Array }).forces;
      if (f) this.grip[stream === 'tactile/left' ? 0 : 1] = normalForce(f);
    }
    this.onSample(sample);
  }

  command(a: TeleopAction): boolean {
    if (!this.ros.isConnected || this.conn.state !== 'connected') return false;
    const now = systemClock.nowNs();
    const sec = Math.floor(now / 1e9);
    const header = { stamp: { sec, nanosec: Math.round(now - sec * 1e9) }, frame_id: 'base_link' };
    if (this.needStop) {
      // First thing after (re)connecting: a stop, in case anything stale reaches the robot.
      this.needStop = false;
      this.twist.publish({ header, twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } } });
    }
    this.twist.publish({ header, twist: { linear: { x: a.linear[0], y: a.linear[1], z: a.linear[2] }, angular: { x: a.angular[0], y: a.angular[1], z: a.angular[2] } } });
    this.gripper.publish({ data: a.gripper });
    this.onSample({ stream: 'action', t_capture_ns: now, t_receive_ns: now, seq: this.actionSeq++, data: { linear: [...a.linear], angular: [...a.angular], gripper: a.gripper } });
    return true;
  }

  private call<T>(name: string, type: string, req: unknown): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
    if (!this.ros.isConnected) return Promise.resolve({ ok: false, message: 'not connected' });
    const timeoutS = this.opts.serviceTimeoutS ?? 5;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, message: `${name}: no answer within ${timeoutS} s` }), timeoutS * 1000);
      const s = new ROSLIB.Service<unknown, T>({ ros: this.ros, name, serviceType: type });
      s.callService(
        req,
        (value) => {
          clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (err) => {
          clearTimeout(timer);
          resolve({ ok: false, message: `${name}: ${err}` });
        },
      );
    });
  }

  async reset(seed: number): Promise<ResetResult> {
    const r = await this.call<{ success?: boolean; message?: string }>(ROS_OUTPUTS.reset.service, ROS_OUTPUTS.reset.type, { seed });
    if (!r.ok) return { ok: false, message: r.message };
    return { ok: r.value.success !== false, message: r.value.message ?? '' };
  }

  async task(): Promise<string | null> {
    const r = await this.call<{ task?: unknown }>(ROS_OUTPUTS.status.service, ROS_OUTPUTS.status.type, {});
    return r.ok && typeof r.value.task === 'string' && r.value.task ? r.value.task : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.ros.isConnected) {
      const stop = { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } };
      this.twist.publish({ twist: stop });
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const t of this.topics) t.unsubscribe();
    this.ros.close();
    this.setConnection('disconnected', 'closed');
  }
}
