// The runtime's configuration: one zod schema (the schema is the type), read
// from JSON or YAML. Every error names the file and the field, e.g.
// `serve.yaml: safety.max_linear_m_s: Too big: expected number to be <=5`.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDocument } from 'yaml';

const positive = z.number().positive();
const vec3 = z.tuple([z.number(), z.number(), z.number()]);

/** Health thresholds of one stream (sensors/ StreamConfig overrides; unset → sensors' defaults). */
const StreamHealthOverrides = z
  .object({
    expected_hz: positive,
    min_hz: positive,
    max_hz: positive,
    rate_tolerance: z.number().min(0).max(1),
    rate_error_fraction: z.number().min(0).max(1),
    rate_window_s: positive,
    stale_after_s: positive,
    frozen_after_s: positive.nullable(),
    jump_tolerance_s: positive,
    future_tolerance_s: z.number().min(0),
    event_hold_s: positive,
    warmup_timeout_s: positive.nullable(),
  })
  .partial()
  .strict();

export const MESSAGE_TYPES = [
  'sensor_msgs/CompressedImage',
  'std_msgs/Float32MultiArray',
  'sensor_msgs/JointState',
] as const;

/** One input: a ROS topic that becomes a senseact stream. */
export const StreamEntry = z
  .object({
    topic: z.string().min(1).startsWith('/', 'a topic name starts with /'),
    type: z.enum(MESSAGE_TYPES),
    /** Subscribe at all. 'auto': when the controller uses the stream or the safety filter needs it. */
    enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** ERROR/STALE on a required stream stops the robot; on an optional one it only masks the modality. 'auto': the controller uses it. */
    required: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** WARN: hide the modality from the policy ('mask', the default) or pass it through ('continue'). */
    on_warn: z.enum(['mask', 'continue']).default('mask'),
    /** Capture time from the message header ('header') or our receive time ('receive'). Messages without a header always use receive time. */
    timestamps: z.enum(['header', 'receive']).default('header'),
    health: StreamHealthOverrides.default({}),
  })
  .strict();
export type StreamEntry = z.infer<typeof StreamEntry>;

const DEFAULT_STREAMS: Record<string, z.input<typeof StreamEntry>> = {
  'camera/wrist': { topic: '/camera/color/image_raw/compressed', type: 'sensor_msgs/CompressedImage' },
  'camera/scene': { topic: '/scene_camera/color/image_raw/compressed', type: 'sensor_msgs/CompressedImage' },
  'tactile/left': { topic: '/tactile/left', type: 'std_msgs/Float32MultiArray' },
  'tactile/right': { topic: '/tactile/right', type: 'std_msgs/Float32MultiArray' },
  smell: { topic: '/e_nose/raw', type: 'std_msgs/Float32MultiArray' },
  proprio: { topic: '/joint_states', type: 'sensor_msgs/JointState' },
};

const Reconnect = z
  .object({
    /** First retry delay, s. */
    initial_s: positive.default(0.25),
    /** Delays never exceed this, s. */
    max_s: positive.default(5),
    multiplier: z.number().min(1).default(2),
    /** Fraction of each delay that is randomized away (0: none, 1: "full jitter"). */
    jitter: z.number().min(0).max(1).default(0.5),
    /** A connect attempt that has not opened after this long is abandoned, s. */
    connect_timeout_s: positive.default(3),
  })
  .strict();

const Kinematics = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  /** A Stretch-like mobile base with a lift and a telescoping arm (the simulator's robot). */
  z
    .object({
      kind: z.literal('telescoping'),
      arm_root_m: z.number().default(0.15),
      joints: z
        .object({
          base_x: z.string().default('base_x'),
          base_y: z.string().default('base_y'),
          base_yaw: z.string().default('base_yaw'),
          lift: z.string().default('lift'),
          arm: z.string().default('arm'),
          wrist_yaw: z.string().default('wrist_yaw'),
        })
        .strict()
        .default({ base_x: 'base_x', base_y: 'base_y', base_yaw: 'base_yaw', lift: 'lift', arm: 'arm', wrist_yaw: 'wrist_yaw' }),
    })
    .strict(),
]);

export const RobotConfig = z
  .object({
    outputs: z
      .object({
        cmd_twist: z.string().startsWith('/').default('/senseact/cmd_twist'),
        twist_type: z.enum(['geometry_msgs/TwistStamped', 'geometry_msgs/Twist']).default('geometry_msgs/TwistStamped'),
        gripper: z.string().startsWith('/').default('/senseact/gripper'),
        health: z.string().startsWith('/').default('/senseact/health'),
      })
      .strict()
      .default({ cmd_twist: '/senseact/cmd_twist', twist_type: 'geometry_msgs/TwistStamped', gripper: '/senseact/gripper', health: '/senseact/health' }),
    /** std_msgs/Bool, true = engaged; null: no e-stop topic (HTTP POST /estop still works). */
    estop_topic: z.string().startsWith('/').nullable().default('/senseact/estop'),
    services: z
      .object({ reset: z.string().startsWith('/').default('/senseact/reset'), status: z.string().startsWith('/').default('/senseact/task_status') })
      .strict()
      .default({ reset: '/senseact/reset', status: '/senseact/task_status' }),
    service_timeout_s: positive.default(2),
    /** Header stamps we write: ROS 1 {secs,nsecs}, ROS 2 {sec,nanosec}, or 'auto' (as the peer sends). */
    ros_version: z.union([z.literal(1), z.literal(2), z.literal('auto')]).default('auto'),
    frame_id: z.string().default('base_link'),
    reconnect: Reconnect.default(Reconnect.parse({})),
    /**
     * Header stamps: 'track' maps the peer's clock onto ours (robust to unsynchronized
     * clocks; jumps beyond step_tolerance_s still show), 'trust' uses them as they are.
     */
    clock: z
      .object({
        mode: z.enum(['track', 'trust']).default('track'),
        window_s: positive.default(2),
        step_follow_s: positive.default(0.25),
        step_tolerance_s: positive.default(1),
        reanchor_after_s: positive.default(3),
      })
      .strict()
      .default({ mode: 'track', window_s: 2, step_follow_s: 0.25, step_tolerance_s: 1, reanchor_after_s: 3 }),
    /** Joints whose positions add up to the gripper opening (m). */
    gripper_joints: z.array(z.string()).default(['finger_left', 'finger_right']),
    kinematics: Kinematics.default(Kinematics.parse({ kind: 'telescoping' })),
    /** The e-nose topic carries values only; these describe its channels. */
    smell: z
      .object({
        channels: z.array(z.string().min(1)).nullable().default(null),
        units: z.enum(['ohm', 'voc_index', 'nox_index', 'ppm', 'arb']).default('ohm'),
        temperature_c: z.number().default(25),
        humidity_pct: z.number().min(0).max(100).default(50),
        /** Seconds after the first reading during which the sensor counts as warming up. */
        warmup_s: z.number().min(0).default(0),
      })
      .strict()
      .default({ channels: null, units: 'ohm', temperature_c: 25, humidity_pct: 50, warmup_s: 0 }),
  })
  .strict();
export type RobotConfig = z.infer<typeof RobotConfig>;

export const SafetyConfig = z
  .object({
    /** Per-axis limit on the commanded linear velocity, m/s. */
    max_linear_m_s: positive.max(5).default(0.25),
    max_angular_rad_s: positive.max(20).default(1.5),
    /** Change of commanded velocity per second (a stop is not limited), m/s². */
    max_linear_accel_m_s2: positive.default(1.5),
    max_angular_accel_rad_s2: positive.default(6),
    /** End-effector box in the base/world frame; motion that would leave it is zeroed on that axis. */
    workspace: z
      .object({ min: vec3, max: vec3 })
      .strict()
      .refine((w) => w.min.every((v, i) => v < w.max[i]), 'workspace.min must be below workspace.max on every axis')
      .nullable()
      .default({ min: [-1, -1.5, 0.3], max: [2, 1.5, 1.5] }),
    /** Grip force (N, from touch) above which the gripper may not close further. */
    max_grip_force_n: positive.default(8),
    /** Above max_grip_force_n × this, the gripper is opened a little each tick. */
    grip_hard_factor: z.number().min(1).default(1.5),
    grip_backoff: z.number().min(0).max(1).default(0.05),
  })
  .strict();
export type SafetyConfig = z.infer<typeof SafetyConfig>;

export const HealthConfig = z
  .object({
    /** How often health is evaluated between control ticks (the stale watchdog), Hz. */
    check_hz: positive.max(1000).default(50),
    /** After an ERROR, motion resumes once everything has been healthy this long, s. */
    resume_after_s: z.number().min(0).default(2),
    /** Resume only after an operator acknowledgement (POST /ack), in addition to resume_after_s. */
    require_ack: z.boolean().default(false),
    /** Inference slower than this is a WARN (default: one control period), s. */
    inference_budget_s: positive.nullable().default(null),
    /** An inference running (or last taking) longer than this many control periods is an ERROR. */
    inference_error_periods: z.number().min(1).default(3),
    /** An action computed from a frame older than this is dropped (default: two periods), s. */
    max_action_age_s: positive.nullable().default(null),
    /** How often /senseact/health is published, Hz (and on every level change). */
    publish_hz: positive.max(100).default(2),
    /**
     * A WARN from one of these checks masks the modality (for streams with on_warn: mask).
     * 'rate' is left out by default: over a websocket a 100 Hz stream arrives in bursts and
     * its measured rate strays past ±10 % while the data stays fresh (a rate far below, ERROR, still masks or stops).
     */
    mask_on_warn_checks: z.array(z.enum(['rate', 'frozen', 'warmup', 'duplicates', 'sequence'])).default(['frozen', 'warmup', 'duplicates', 'sequence']),
    /** Lower bound on every stream's stale_after_s: a websocket link delivers fast streams in bursts. */
    min_stale_s: z.number().min(0).default(0.1),
    /** Free disk below these while recording: WARN / ERROR, bytes. */
    disk_warn_bytes: z.number().min(0).default(2 * 1024 ** 3),
    disk_error_bytes: z.number().min(0).default(256 * 1024 ** 2),
    /** The loop counts as alive for /healthz while it ticked within this, s. */
    liveness_s: positive.default(5),
  })
  .strict();
export type HealthConfig = z.infer<typeof HealthConfig>;

export const RuntimeConfig = z
  .object({
    /** Control rate, Hz. The simulator controls at 20 Hz; trained policies state their own rate. */
    rate_hz: positive.max(1000).default(10),
    robot: RobotConfig.default(RobotConfig.parse({})),
    /** Streams by name (merged over the defaults: camera/wrist, camera/scene, tactile/left, tactile/right, smell, proprio). */
    streams: z.record(z.string().min(1), z.unknown()).default({}),
    safety: SafetyConfig.default(SafetyConfig.parse({})),
    health: HealthConfig.default(HealthConfig.parse({})),
    /** Record every stream to MCAP logs while serving (null: off). */
    recording: z
      .object({ dir: z.string().min(1), max_minutes: positive.default(10) })
      .strict()
      .nullable()
      .default(null),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    /** Debug endpoints (GET /debug/heap); off in production. */
    debug: z.boolean().default(false),
  })
  .strict();

export type RuntimeConfig = Omit<z.infer<typeof RuntimeConfig>, 'streams'> & { streams: Record<string, StreamEntry> };

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

function issuePath(p: readonly PropertyKey[]): string {
  return p.map((k) => String(k)).join('.');
}

/** Validates a parsed config object; `file` names the source in errors. */
export function parseConfig(raw: unknown, file = '(config)'): RuntimeConfig {
  const r = RuntimeConfig.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(file, issuePath(issue.path), issue.message);
  }
  const streams: Record<string, StreamEntry> = {};
  const userStreams = r.data.streams as Record<string, unknown>;
  for (const name of new Set([...Object.keys(DEFAULT_STREAMS), ...Object.keys(userStreams)])) {
    const user = userStreams[name];
    if (user !== undefined && (typeof user !== 'object' || user === null || Array.isArray(user))) {
      throw new ConfigError(file, `streams.${name}`, 'expected an object');
    }
    const base = DEFAULT_STREAMS[name] ?? {};
    const merged = { ...base, ...(user as object | undefined), health: { ...((user as { health?: object })?.health ?? {}) } };
    const s = StreamEntry.safeParse(merged);
    if (!s.success) {
      const issue = s.error.issues[0];
      throw new ConfigError(file, issuePath(['streams', name, ...issue.path]), issue.message);
    }
    const modality = name.split('/', 1)[0];
    if (!['camera', 'tactile', 'smell', 'proprio'].includes(modality)) {
      throw new ConfigError(file, `streams.${name}`, `a stream name starts with its modality (camera, tactile, smell, proprio)`);
    }
    streams[name] = s.data;
  }
  const cfg = { ...r.data, streams } as RuntimeConfig;
  if (cfg.health.disk_error_bytes > cfg.health.disk_warn_bytes) {
    throw new ConfigError(file, 'health.disk_error_bytes', 'must not exceed health.disk_warn_bytes');
  }
  return cfg;
}

/** Reads a JSON (.json) or YAML (anything else) config file and validates it. */
export function loadConfig(file: string): RuntimeConfig {
  const name = path.basename(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  if (/\.json$/i.test(name)) {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(file, '', `not valid JSON: ${(err as Error).message}`);
    }
  } else {
    const doc = parseDocument(text);
    if (doc.errors.length) {
      const e = doc.errors[0];
      const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
      throw new ConfigError(file, '', `not valid YAML${where ? ` (${where})` : ''}: ${e.message.split('\n')[0]}`);
    }
    raw = doc.toJS();
  }
  return parseConfig(raw, file);
}
