// ROS messages for the topics of ARCHITECTURE.md, built from simulator
// samples, and parsers for the commands that come in. Stamps go out in the
// peer's ROS version and are accepted in either ({secs,nsecs} or {sec,nanosec}).
import { encode as encodePng } from 'fast-png';
import { z } from 'zod';
import type { CameraData, ProprioData, Sample, SmellData, TactileData } from '../samples.ts';

export type RosVersion = 1 | 2;

export const TOPICS = {
  camera: '/camera/color/image_raw/compressed',
  sceneCamera: '/scene_camera/color/image_raw/compressed',
  tactileLeft: '/tactile/left',
  tactileRight: '/tactile/right',
  smell: '/e_nose/raw',
  joints: '/joint_states',
  twist: '/senseact/cmd_twist',
  gripper: '/senseact/gripper',
} as const;

export const SERVICES = { reset: '/senseact/reset', status: '/senseact/task_status' } as const;

/** Topic → message type, for the topics the sim publishes. */
export const PUBLISHED: Record<string, string> = {
  [TOPICS.camera]: 'sensor_msgs/CompressedImage',
  [TOPICS.sceneCamera]: 'sensor_msgs/CompressedImage',
  [TOPICS.tactileLeft]: 'std_msgs/Float32MultiArray',
  [TOPICS.tactileRight]: 'std_msgs/Float32MultiArray',
  [TOPICS.smell]: 'std_msgs/Float32MultiArray',
  [TOPICS.joints]: 'sensor_msgs/JointState',
};

export function stamp(ns: number, version: RosVersion): Record<string, number> {
  const sec = Math.floor(ns / 1e9);
  const nano = Math.round(ns - sec * 1e9);
  return version === 1 ? { secs: sec, nsecs: nano } : { sec, nanosec: nano };
}

export const Stamp = z.union([
  z.object({ sec: z.number(), nanosec: z.number() }),
  z.object({ secs: z.number(), nsecs: z.number() }),
]);

function header(ns: number, frameId: string, version: RosVersion, seq: number) {
  const h: Record<string, unknown> = { stamp: stamp(ns, version), frame_id: frameId };
  if (version === 1) h.seq = seq;
  return h;
}

/** Which topic a sample goes out on, or null if none. */
export function topicOf(stream: string): string | null {
  switch (stream) {
    case 'camera/wrist':
      return TOPICS.camera;
    case 'camera/scene':
      return TOPICS.sceneCamera;
    case 'tactile/left':
      return TOPICS.tactileLeft;
    case 'tactile/right':
      return TOPICS.tactileRight;
    case 'smell':
      return TOPICS.smell;
    case 'proprio':
      return TOPICS.joints;
    default:
      return null;
  }
}

/** The ROS message for a sample; `epochNs` turns sim time into wall-clock stamps. */
export function toRos(sample: Sample, epochNs: number, version: RosVersion): Record<string, unknown> | null {
  const t = epochNs + sample.t_capture_ns;
  switch (sample.stream) {
    case 'camera/wrist':
    case 'camera/scene': {
      const d = sample.data as CameraData;
      const png = encodePng({ width: d.width, height: d.height, data: d.data, channels: 3, depth: 8 });
      return { header: header(t, d.frame_id, version, sample.seq), format: 'png', data: Buffer.from(png).toString('base64') };
    }
    case 'tactile/left':
    case 'tactile/right': {
      const d = sample.data as TactileData;
      return {
        layout: {
          dim: [
            { label: 'rows', size: d.rows, stride: d.rows * d.cols * 3 },
            { label: 'cols', size: d.cols, stride: d.cols * 3 },
            { label: 'axes', size: 3, stride: 3 },
          ],
          data_offset: 0,
        },
        data: Array.from(d.forces),
      };
    }
    case 'smell': {
      const d = sample.data as SmellData;
      return { layout: { dim: [{ label: 'channels', size: d.values.length, stride: d.values.length }], data_offset: 0 }, data: d.values };
    }
    case 'proprio': {
      const d = sample.data as ProprioData;
      return { header: header(t, 'base_link', version, sample.seq), name: d.names, position: d.position, velocity: d.velocity, effort: d.effort };
    }
    default:
      return null;
  }
}

const vec = z.object({ x: z.number(), y: z.number(), z: z.number() });
const finiteVec = vec.refine((v) => Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z), 'must be finite');
/** geometry_msgs/TwistStamped, or a bare geometry_msgs/Twist. */
export const TwistMsg = z.union([
  z.object({ header: z.object({ stamp: Stamp.optional(), frame_id: z.string().optional() }).passthrough().optional(), twist: z.object({ linear: finiteVec, angular: finiteVec }) }),
  z.object({ linear: finiteVec, angular: finiteVec }).transform((twist) => ({ header: undefined, twist })),
]);
export const Float32Msg = z.object({ data: z.number().refine(Number.isFinite, 'must be finite') });
export const ResetArgs = z.object({ seed: z.number().int().min(0).max(0xffffffff) });
