// ROS messages (as rosbridge delivers them in JSON) → senseact samples, for
// the topics of ARCHITECTURE.md. The converters never throw and never
// validate: they map what they find into a sample-shaped object and sensors'
// Stream / LogWriter validate it with the zod schemas, so a bad message is
// rejected there with the field named and counted in the stream's health.
//
// A small subset of what runtime/'s rosbridge adapter (#8) converts; when that
// lands, ros-robot.ts should use it instead.
import { encodedImageSize } from '../sensors/index.ts';
import type { RawSample } from './robot.ts';

export const ROS_INPUTS = [
  { stream: 'camera/wrist', topic: '/camera/color/image_raw/compressed', type: 'sensor_msgs/CompressedImage' },
  { stream: 'tactile/left', topic: '/tactile/left', type: 'std_msgs/Float32MultiArray' },
  { stream: 'tactile/right', topic: '/tactile/right', type: 'std_msgs/Float32MultiArray' },
  { stream: 'smell', topic: '/e_nose/raw', type: 'std_msgs/Float32MultiArray' },
  { stream: 'proprio', topic: '/joint_states', type: 'sensor_msgs/JointState' },
] as const;

export const ROS_OUTPUTS = {
  twist: { topic: '/senseact/cmd_twist', type: 'geometry_msgs/TwistStamped' },
  gripper: { topic: '/senseact/gripper', type: 'std_msgs/Float32' },
  reset: { service: '/senseact/reset', type: 'senseact_msgs/Reset' },
  status: { service: '/senseact/task_status', type: 'senseact_msgs/TaskStatus' },
} as const;

/** ROS 1 {secs,nsecs} or ROS 2 {sec,nanosec} header stamp → ns, or null. */
export function stampNs(msg: unknown): number | null {
  const stamp = (msg as { header?: { stamp?: Record<string, unknown> } } | null)?.header?.stamp;
  if (!stamp || typeof stamp !== 'object') return null;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (ok(stamp.sec) && ok(stamp.nanosec)) return stamp.sec * 1e9 + stamp.nanosec;
  if (ok(stamp.secs) && ok(stamp.nsecs)) return stamp.secs * 1e9 + stamp.nsecs;
  return null;
}

const obj = (m: unknown): Record<string, unknown> => (m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {});
const numbers = (v: unknown): number[] | undefined => (Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : NaN)) : undefined);

function bytes(v: unknown): Uint8Array | undefined {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) return Uint8Array.from(v as number[]);
  return undefined;
}

export interface ConvertContext {
  stream: string;
  receiveNs: number;
  seq: number;
  /** Latest grip force from touch (N), for the proprio sample. */
  gripForce: number;
  /** Seconds since this stream's first message. */
  sinceFirstS: number;
}

function data(stream: string, msg: unknown, ctx: ConvertContext): unknown {
  const m = obj(msg);
  if (stream.startsWith('camera')) {
    const format = typeof m.format === 'string' ? m.format.toLowerCase() : '';
    const encoding = /png/.test(format) ? 'png' : /jpe?g/.test(format) ? 'jpeg' : format || undefined;
    const b = bytes(m.data);
    let size: { width?: number; height?: number } = {};
    if (b && (encoding === 'png' || encoding === 'jpeg')) {
      try {
        size = encodedImageSize(b, encoding);
      } catch {
        // Left undefined: the schema rejects the sample and names the field.
      }
    }
    const frame = obj(m.header).frame_id;
    return { encoding, ...size, frame_id: typeof frame === 'string' ? frame : '', data: b };
  }
  if (stream.startsWith('tactile')) {
    const values = numbers(m.data);
    const dims = Array.isArray(obj(m.layout).dim) ? (obj(m.layout).dim as unknown[]).map((d) => obj(d).size) : [];
    let rows = typeof dims[0] === 'number' ? dims[0] : undefined;
    let cols = typeof dims[1] === 'number' ? dims[1] : undefined;
    if ((rows === undefined || cols === undefined) && values) rows = cols = Math.round(Math.sqrt(values.length / 3));
    return { pad: stream.slice(stream.indexOf('/') + 1), rows, cols, forces: values ? Float32Array.from(values) : undefined };
  }
  if (stream === 'smell') {
    // The e-nose topic carries channel values only: metal-oxide resistances (Ω) by convention here.
    const values = numbers(m.data) ?? [];
    return {
      channels: values.map((_, i) => `ch${i}`),
      units: values.map(() => 'ohm'),
      values,
      temperature_c: 25,
      humidity_pct: 50,
      heater_step: 0,
      warmed_up: true,
    };
  }
  // sensor_msgs/JointState; empty velocity/effort arrays mean "not measured".
  const names = Array.isArray(m.name) ? m.name : undefined;
  const n = names?.length ?? 0;
  const orZeros = (v: unknown) => (Array.isArray(v) && v.length === 0 ? new Array(n).fill(0) : numbers(v));
  const position = numbers(m.position);
  const at = (j: string) => {
    const i = names ? names.indexOf(j) : -1;
    return i >= 0 && position && i < position.length ? position[i] : null;
  };
  const opening = (at('finger_left') ?? 0) + (at('finger_right') ?? 0);
  const out: Record<string, unknown> = { names, position, velocity: orZeros(m.velocity), effort: orZeros(m.effort), gripper_opening: Math.max(0, opening), gripper_force: ctx.gripForce };
  const [bx, by, yaw, lift, arm, wrist] = ['base_x', 'base_y', 'base_yaw', 'lift', 'arm', 'wrist_yaw'].map(at);
  if (bx !== null && by !== null && yaw !== null && lift !== null && arm !== null) {
    // The simulator's telescoping arm: tool point = base + (0.15 m + arm) along the base heading.
    const r = 0.15 + arm;
    out.ee_pose = { x: bx + Math.cos(yaw) * r, y: by + Math.sin(yaw) * r, z: lift, yaw: yaw + (wrist ?? 0) };
  }
  return out;
}

/** One ROS message → a raw sample; capture time from the header stamp when there is one. */
export function rosToSample(stream: string, msg: unknown, ctx: ConvertContext): RawSample {
  const header = obj(obj(msg).header);
  const rosSeq = header.seq;
  return {
    stream,
    t_capture_ns: stampNs(msg) ?? ctx.receiveNs,
    t_receive_ns: ctx.receiveNs,
    seq: typeof rosSeq === 'number' && Number.isInteger(rosSeq) && rosSeq >= 0 ? rosSeq : ctx.seq,
    data: data(stream, msg, ctx),
  };
}

/** Sum of the normal (z) forces over a pad's taxels, N. */
export function normalForce(forces: ArrayLike<number>): number {
  let s = 0;
  for (let k = 2; k < forces.length; k += 3) s += forces[k];
  return s;
}
