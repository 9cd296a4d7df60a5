// ROS messages ⇄ senseact samples, for the rosbridge adapter.
//
// Incoming messages are untrusted. The converters here never throw and never
// validate: they map fields as found (null → NaN, missing → undefined) into a
// sample-shaped object, and `Stream.push` validates it with the sensors/ zod
// schemas — so a wrong type or a NaN is rejected there with the field named,
// counted, and raised in the stream's health.
import { encodedImageSize, type ActionData } from '../sensors/index.ts';
import type { RobotConfig } from './config.ts';

export type RosVersion = 1 | 2;

export interface RosStamp {
  ns: number;
  version: RosVersion;
}

/** A header stamp in either ROS 1 ({secs, nsecs}) or ROS 2 ({sec, nanosec}) form, or null. */
export function parseStamp(header: unknown): RosStamp | null {
  const stamp = (header as { stamp?: unknown } | null | undefined)?.stamp as Record<string, unknown> | undefined;
  if (!stamp || typeof stamp !== 'object') return null;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (ok(stamp.sec) && ok(stamp.nanosec)) return { ns: stamp.sec * 1e9 + stamp.nanosec, version: 2 };
  if (ok(stamp.secs) && ok(stamp.nsecs)) return { ns: stamp.secs * 1e9 + stamp.nsecs, version: 1 };
  return null;
}

export function makeStamp(ns: number, version: RosVersion): Record<string, number> {
  const sec = Math.floor(ns / 1e9);
  const nano = Math.max(0, Math.min(999_999_999, Math.round(ns - sec * 1e9)));
  return version === 1 ? { secs: sec, nsecs: nano } : { sec, nanosec: nano };
}

/** Numbers as found; anything else (null from a NaN in JSON, strings) becomes NaN so validation rejects it. */
function numbers(v: unknown): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((x) => (typeof x === 'number' ? x : NaN));
}

function fromBase64(v: unknown): Uint8Array | undefined {
  if (typeof v === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return undefined;
    const b = Buffer.from(v, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  // Some bridges send uint8[] as a number array.
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) return Uint8Array.from(v as number[]);
  return undefined;
}

/** What the converters need besides the message. */
export interface ConvertContext {
  stream: string;
  receiveNs: number;
  useHeader: boolean;
  seq: number;
  robot: RobotConfig;
  /** Latest grip force from touch (N), for the proprio sample. */
  gripForce(): number;
  /** Seconds since this stream's first message (e-nose warm-up). */
  sinceFirstS: number;
  /** Header stamp (peer clock) → capture time on our clock. */
  mapStamp(headerNs: number): number;
}

export interface Converted {
  /** The sample-shaped object to push into the Stream (validated there). */
  raw: { stream: string; t_capture_ns: number; t_receive_ns: number; seq: number; data: unknown };
  /** The ROS version the header used, if any. */
  version: RosVersion | null;
}

function wrap(ctx: ConvertContext, msg: unknown, data: unknown): Converted {
  const header = (msg as { header?: unknown } | null)?.header;
  const stamp = parseStamp(header);
  const rosSeq = (header as { seq?: unknown } | undefined)?.seq;
  const capture = ctx.useHeader && stamp ? ctx.mapStamp(stamp.ns) : ctx.receiveNs;
  return {
    raw: {
      stream: ctx.stream,
      t_capture_ns: capture,
      t_receive_ns: ctx.receiveNs,
      seq: typeof rosSeq === 'number' && Number.isInteger(rosSeq) && rosSeq >= 0 ? rosSeq : ctx.seq,
      data,
    },
    version: stamp?.version ?? null,
  };
}

const obj = (m: unknown): Record<string, unknown> => (m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {});

export function compressedImageToSample(msg: unknown, ctx: ConvertContext): Converted {
  const m = obj(msg);
  const format = typeof m.format === 'string' ? m.format.toLowerCase() : '';
  const encoding = /png/.test(format) ? 'png' : /jpe?g/.test(format) ? 'jpeg' : format || undefined;
  const bytes = fromBase64(m.data);
  let width: number | undefined;
  let height: number | undefined;
  if (bytes && (encoding === 'png' || encoding === 'jpeg')) {
    try {
      ({ width, height } = encodedImageSize(bytes, encoding));
    } catch {
      // Left undefined: the schema rejects the sample and names the field.
    }
  }
  const frameId = obj(m.header).frame_id;
  return wrap(ctx, msg, { encoding, width, height, frame_id: typeof frameId === 'string' ? frameId : '', data: bytes });
}

export function tactileToSample(msg: unknown, ctx: ConvertContext): Converted {
  const m = obj(msg);
  const values = numbers(m.data);
  const dims = Array.isArray(obj(m.layout).dim) ? (obj(m.layout).dim as unknown[]).map((d) => obj(d).size) : [];
  let rows = typeof dims[0] === 'number' ? dims[0] : undefined;
  let cols = typeof dims[1] === 'number' ? dims[1] : undefined;
  if ((rows === undefined || cols === undefined) && values) {
    // No layout: a square pad of three-axis taxels.
    const side = Math.round(Math.sqrt(values.length / 3));
    rows = side;
    cols = side;
  }
  const pad = ctx.stream.includes('/') ? ctx.stream.slice(ctx.stream.indexOf('/') + 1) : ctx.stream;
  return wrap(ctx, msg, { pad, rows, cols, forces: values ? Float32Array.from(values) : undefined });
}

export function smellToSample(msg: unknown, ctx: ConvertContext): Converted {
  const m = obj(msg);
  const values = numbers(m.data);
  const s = ctx.robot.smell;
  const k = values?.length ?? 0;
  const channels = s.channels && s.channels.length === k ? s.channels : Array.from({ length: k }, (_, i) => `ch${i}`);
  return wrap(ctx, msg, {
    channels,
    units: channels.map(() => s.units),
    values,
    temperature_c: s.temperature_c,
    humidity_pct: s.humidity_pct,
    heater_step: 0,
    warmed_up: ctx.sinceFirstS >= s.warmup_s,
  });
}

export function jointStateToSample(msg: unknown, ctx: ConvertContext): Converted {
  const m = obj(msg);
  const names = Array.isArray(m.name) ? m.name : undefined;
  const n = names?.length ?? 0;
  // ROS allows empty velocity/effort arrays: a driver that does not measure them.
  const orZeros = (v: unknown) => (Array.isArray(v) && v.length === 0 ? new Array(n).fill(0) : numbers(v));
  const position = numbers(m.position);
  const velocity = orZeros(m.velocity);
  const effort = orZeros(m.effort);
  const at = (joint: string): number | null => {
    const i = names ? names.indexOf(joint) : -1;
    return i >= 0 && position && i < position.length ? position[i] : null;
  };
  let opening = 0;
  for (const j of ctx.robot.gripper_joints) opening += at(j) ?? 0;
  const data: Record<string, unknown> = {
    names,
    position,
    velocity,
    effort,
    gripper_opening: Math.max(0, opening),
    gripper_force: ctx.gripForce(),
  };
  const k = ctx.robot.kinematics;
  if (k.kind === 'telescoping') {
    const [bx, by, yaw, lift, arm, wrist] = [k.joints.base_x, k.joints.base_y, k.joints.base_yaw, k.joints.lift, k.joints.arm, k.joints.wrist_yaw].map(at);
    if (bx !== null && by !== null && yaw !== null && lift !== null && arm !== null) {
      const r = k.arm_root_m + arm;
      data.ee_pose = { x: bx + Math.cos(yaw) * r, y: by + Math.sin(yaw) * r, z: lift, yaw: yaw + (wrist ?? 0) };
    }
  }
  return wrap(ctx, msg, data);
}

export const CONVERTERS = {
  'sensor_msgs/CompressedImage': compressedImageToSample,
  'std_msgs/Float32MultiArray': tactileOrSmell,
  'sensor_msgs/JointState': jointStateToSample,
} as const;

function tactileOrSmell(msg: unknown, ctx: ConvertContext): Converted {
  return ctx.stream.startsWith('tactile') ? tactileToSample(msg, ctx) : smellToSample(msg, ctx);
}

// ---------------------------------------------------------------- outgoing

export function twistMessage(a: ActionData, stampNs: number, version: RosVersion, frameId: string, stamped: boolean): Record<string, unknown> {
  const twist = {
    linear: { x: a.linear[0], y: a.linear[1], z: a.linear[2] },
    angular: { x: a.angular[0], y: a.angular[1], z: a.angular[2] },
  };
  return stamped ? { header: { stamp: makeStamp(stampNs, version), frame_id: frameId }, twist } : twist;
}

/** The normal force a tactile sample feels: the sum of the z axis over its taxels, N. */
export function normalForce(forces: Float32Array): number {
  let s = 0;
  for (let k = 2; k < forces.length; k += 3) s += forces[k];
  return s;
}
