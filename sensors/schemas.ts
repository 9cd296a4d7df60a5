// Sample schemas: one zod schema per message, and its type is `z.infer` of it
// (the schema is the type). Every sample carries the capture time from the
// sensor's (or the simulator's) clock, the receive time from ours, and a
// per-stream sequence number.
//
// Times are nanoseconds held in a JS `number`. They are integers, but above
// 2^53 (≈ 104 days after the epoch) not every integer is representable: at
// Unix-epoch scale today (≈ 1.7e18 ns) neighbouring doubles are 256 ns apart,
// so absolute stamps are exact to within 256 ns. Differences between nearby
// stamps stay exact to that granularity, which is far below any sensor period
// here (the fastest stream, tactile, is 10 ms). Sim clocks start near zero
// and are exact to the nanosecond.
import { z } from 'zod';

/** Largest camera (or tactile image) side we accept, checked before any allocation. */
export const MAX_IMAGE_SIDE = 4096;
/** Largest taxel grid side (uSkin is 4×4, M3L's simulated pads are 32×32). */
export const MAX_TAXEL_SIDE = 256;
/** Most channels / joints in one smell or proprio sample. */
export const MAX_CHANNELS = 256;
/** Largest encoded (jpeg/png) image accepted, in bytes. */
export const MAX_ENCODED_IMAGE_BYTES = 64 * 1024 * 1024;

/** The modalities a policy consumes. A stream's modality is its name up to the first '/'. */
export const MODALITIES = ['camera', 'tactile', 'smell', 'proprio', 'action'] as const;
export const Modality = z.enum(MODALITIES);
export type Modality = z.infer<typeof Modality>;

/** Default stream names (remappable; the modality prefix is what matters). */
export const DEFAULT_STREAMS = {
  camera: 'camera/wrist',
  /** A fixed camera over the workspace (the simulator's is over the counter, looking down). */
  sceneCamera: 'camera/scene',
  tactileLeft: 'tactile/left',
  tactileRight: 'tactile/right',
  smell: 'smell',
  proprio: 'proprio',
  action: 'action',
} as const;

/**
 * A time in nanoseconds: a finite, non-negative integer-valued double. zod's
 * `.int()` accepts only safe integers (< 2^53), which would reject epoch
 * nanoseconds, so integrality is checked directly.
 */
export const TimeNs = z
  .number()
  .nonnegative()
  .refine((v) => Number.isInteger(v), { message: 'must be an integer number of nanoseconds' });
export type TimeNs = z.infer<typeof TimeNs>;

const finite = z.number();
// Typed arrays over any buffer (Buffer slices, SharedArrayBuffer views), not only ArrayBuffer.
const bytes = z.instanceof(Uint8Array) as unknown as z.ZodCustom<Uint8Array, Uint8Array>;
const float32s = z.instanceof(Float32Array) as unknown as z.ZodCustom<Float32Array, Float32Array>;
const count = (max: number) => z.number().int().min(1).max(max);

// ---------------------------------------------------------------- camera

export const CameraIntrinsics = z.object({
  fx: finite.positive(),
  fy: finite.positive(),
  cx: finite,
  cy: finite,
});
export type CameraIntrinsics = z.infer<typeof CameraIntrinsics>;

export const ImageEncoding = z.enum(['rgb8', 'jpeg', 'png']);
export type ImageEncoding = z.infer<typeof ImageEncoding>;

/**
 * A camera image. `rgb8` is width*height*3 bytes, row-major, top row first;
 * `jpeg` and `png` hold the encoded file bytes. Sizes are bounded before any
 * decoder allocates from them.
 */
export const CameraData = z
  .object({
    encoding: ImageEncoding,
    width: count(MAX_IMAGE_SIDE),
    height: count(MAX_IMAGE_SIDE),
    frame_id: z.string(),
    data: bytes,
    intrinsics: CameraIntrinsics.optional(),
  })
  .superRefine((img, ctx) => {
    if (img.encoding === 'rgb8') {
      const want = img.width * img.height * 3;
      if (img.data.length !== want) {
        ctx.addIssue({ code: 'custom', path: ['data'], message: `rgb8 ${img.width}x${img.height} needs ${want} bytes, got ${img.data.length}` });
      }
    } else if (img.data.length === 0 || img.data.length > MAX_ENCODED_IMAGE_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: `${img.encoding} payload of ${img.data.length} bytes is outside 1..${MAX_ENCODED_IMAGE_BYTES}` });
    }
  });
export type CameraData = z.infer<typeof CameraData>;

// ---------------------------------------------------------------- tactile

/** A taxel grid: rows*cols*3 forces in newtons, (x, y, z) per taxel, row-major. */
export const TactileTaxels = z
  .object({
    pad: z.string().min(1),
    rows: count(MAX_TAXEL_SIDE),
    cols: count(MAX_TAXEL_SIDE),
    forces: float32s,
  })
  .superRefine((t, ctx) => {
    const want = t.rows * t.cols * 3;
    if (t.forces.length !== want) {
      ctx.addIssue({ code: 'custom', path: ['forces'], message: `${t.rows}x${t.cols}x3 taxels need ${want} forces, got ${t.forces.length}` });
      return;
    }
    for (let i = 0; i < t.forces.length; i++) {
      if (!Number.isFinite(t.forces[i])) {
        ctx.addIssue({ code: 'custom', path: ['forces', i], message: `force is ${t.forces[i]}, must be finite` });
        return;
      }
    }
  });
export type TactileTaxels = z.infer<typeof TactileTaxels>;

/** A camera-like tactile sensor (GelSight, DIGIT): the pad's image. */
export const TactileImage = z.object({
  pad: z.string().min(1),
  image: CameraData,
});
export type TactileImage = z.infer<typeof TactileImage>;

export const TactileData = z.union([TactileTaxels, TactileImage]);
export type TactileData = z.infer<typeof TactileData>;

export function isTactileTaxels(d: TactileData): d is TactileTaxels {
  return (d as TactileTaxels).forces !== undefined;
}

// ---------------------------------------------------------------- smell

export const SmellUnit = z.enum(['ohm', 'voc_index', 'nox_index', 'ppm', 'arb']);
export type SmellUnit = z.infer<typeof SmellUnit>;

/**
 * An electronic-nose reading: K named channels (MOX resistances in ohm,
 * Sensirion VOC/NOx indices, ...), with the conditions that move them.
 * `warmed_up` is false while the sensor is still settling after power-on.
 */
export const SmellData = z
  .object({
    channels: z.array(z.string().min(1)).min(1).max(MAX_CHANNELS),
    units: z.array(SmellUnit).max(MAX_CHANNELS),
    values: z.array(finite).max(MAX_CHANNELS),
    temperature_c: finite,
    humidity_pct: finite.min(0).max(100),
    heater_step: z.number().int().nonnegative(),
    warmed_up: z.boolean(),
  })
  .superRefine((s, ctx) => {
    const k = s.channels.length;
    if (s.units.length !== k) ctx.addIssue({ code: 'custom', path: ['units'], message: `${s.units.length} units for ${k} channels` });
    if (s.values.length !== k) ctx.addIssue({ code: 'custom', path: ['values'], message: `${s.values.length} values for ${k} channels` });
  });
export type SmellData = z.infer<typeof SmellData>;

// ---------------------------------------------------------------- proprioception

export const EePose = z.object({ x: finite, y: finite, z: finite, yaw: finite });
export type EePose = z.infer<typeof EePose>;

/** Joint state plus the gripper: opening in metres, grip force in newtons. */
export const ProprioData = z
  .object({
    names: z.array(z.string().min(1)).max(MAX_CHANNELS),
    position: z.array(finite).max(MAX_CHANNELS),
    velocity: z.array(finite).max(MAX_CHANNELS),
    effort: z.array(finite).max(MAX_CHANNELS),
    gripper_opening: finite.nonnegative(),
    gripper_force: finite,
    ee_pose: EePose.optional(),
  })
  .superRefine((p, ctx) => {
    const n = p.names.length;
    for (const key of ['position', 'velocity', 'effort'] as const) {
      if (p[key].length !== n) ctx.addIssue({ code: 'custom', path: [key], message: `${p[key].length} entries for ${n} joints` });
    }
  });
export type ProprioData = z.infer<typeof ProprioData>;

// ---------------------------------------------------------------- action

const vec3 = z.tuple([finite, finite, finite]);

/** End-effector twist in the base frame (m/s, rad/s) plus gripper (0 open … 1 closed). */
export const ActionData = z.object({
  linear: vec3,
  angular: vec3,
  gripper: finite.min(0).max(1),
});
export type ActionData = z.infer<typeof ActionData>;

// ---------------------------------------------------------------- samples

const sampleOf = <T extends z.ZodType>(data: T) =>
  z.object({
    stream: z.string().min(1),
    t_capture_ns: TimeNs,
    t_receive_ns: TimeNs,
    seq: z.number().int().nonnegative(),
    data,
  });

export const CameraSample = sampleOf(CameraData);
export type CameraSample = z.infer<typeof CameraSample>;
export const TactileSample = sampleOf(TactileData);
export type TactileSample = z.infer<typeof TactileSample>;
export const SmellSample = sampleOf(SmellData);
export type SmellSample = z.infer<typeof SmellSample>;
export const ProprioSample = sampleOf(ProprioData);
export type ProprioSample = z.infer<typeof ProprioSample>;
export const ActionSample = sampleOf(ActionData);
export type ActionSample = z.infer<typeof ActionSample>;

/** Any sample; which one is decided by the stream's modality. */
export type Sample = CameraSample | TactileSample | SmellSample | ProprioSample | ActionSample;

/** The data type each modality carries. */
export interface ModalityData {
  camera: CameraData;
  tactile: TactileData;
  smell: SmellData;
  proprio: ProprioData;
  action: ActionData;
}

export const SAMPLE_SCHEMAS = {
  camera: CameraSample,
  tactile: TactileSample,
  smell: SmellSample,
  proprio: ProprioSample,
  action: ActionSample,
} as const;

export const DATA_SCHEMAS = {
  camera: CameraData,
  tactile: TactileData,
  smell: SmellData,
  proprio: ProprioData,
  action: ActionData,
} as const;

/** The modality of a stream name: the part before the first '/', e.g. 'tactile/left' → 'tactile'. */
export function modalityOf(stream: string): Modality | null {
  const head = stream.split('/', 1)[0];
  return (MODALITIES as readonly string[]).includes(head) ? (head as Modality) : null;
}

// ---------------------------------------------------------------- episode

/**
 * Episode metadata, stored in the log as MCAP Metadata records. Extra fields
 * are kept (as JSON) so later tools can add their own without a schema change.
 */
export const EpisodeMeta = z.looseObject({
  task: z.string().min(1),
  robot: z.string(),
  operator: z.string(),
  seed: z.number().int(),
  success: z.boolean().nullable(),
  notes: z.string(),
  /** Free-form calibration values; large calibration files go in as MCAP attachments. */
  calibration: z.record(z.string(), z.unknown()).optional(),
  /** ISO 8601 wall-clock start. */
  started_at: z.string().optional(),
  /** Control ticks recorded after the task succeeded (the hand letting go, moving off); absent = none. */
  after_success_ticks: z.number().int().min(0).optional(),
});
export type EpisodeMeta = z.infer<typeof EpisodeMeta>;

// ---------------------------------------------------------------- validation

/** A rejected input: which field, and why, in one line. */
export class SampleError extends Error {
  constructor(
    readonly stream: string,
    readonly path: (string | number)[],
    readonly reason: string,
  ) {
    super(`${stream}: ${path.length ? path.join('.') : '(sample)'}: ${reason}`);
    this.name = 'SampleError';
  }
}

/** Turns the first zod issue into a field path and reason. */
export function firstIssue(err: z.ZodError): { path: (string | number)[]; reason: string } {
  const issue = err.issues[0];
  return { path: (issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p)), reason: issue?.message ?? 'invalid' };
}

export type ParseResult<T> = { ok: true; sample: T } | { ok: false; error: SampleError };

/**
 * Validates an untrusted sample. The schema is chosen from the stream name's
 * modality; never throws.
 */
export function parseSample(raw: unknown): ParseResult<Sample> {
  const stream = typeof (raw as { stream?: unknown })?.stream === 'string' ? (raw as { stream: string }).stream : '';
  if (typeof raw !== 'object' || raw === null) return { ok: false, error: new SampleError(stream || '?', [], 'sample must be an object') };
  const modality = modalityOf(stream);
  if (!modality) {
    return { ok: false, error: new SampleError(stream || '?', ['stream'], `stream name '${stream}' does not start with a modality (${MODALITIES.join(', ')})`) };
  }
  const r = SAMPLE_SCHEMAS[modality].safeParse(raw);
  if (r.success) return { ok: true, sample: r.data as Sample };
  const { path, reason } = firstIssue(r.error);
  return { ok: false, error: new SampleError(stream, path, reason) };
}

/** Like parseSample but throws the SampleError. */
export function assertSample(raw: unknown): Sample {
  const r = parseSample(raw);
  if (!r.ok) throw r.error;
  return r.sample;
}
