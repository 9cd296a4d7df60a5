// The sample shapes the simulator emits. They follow the sensors/ contract
// (ARCHITECTURE.md "Data model"): times in ns as JS numbers, one stream per
// sensor; sensors/ validates them with its zod schemas when logging.

export interface Sample<D = unknown> {
  stream: string;
  t_capture_ns: number;
  t_receive_ns: number;
  seq: number;
  data: D;
}

export interface CameraData {
  encoding: 'rgb8';
  width: number;
  height: number;
  frame_id: string;
  data: Uint8Array;
  intrinsics?: { fx: number; fy: number; cx: number; cy: number };
}

export interface TactileData {
  pad: string;
  rows: number;
  cols: number;
  forces: Float32Array;
}

export interface SmellData {
  channels: string[];
  units: string[];
  values: number[];
  temperature_c: number;
  humidity_pct: number;
  heater_step: number;
  warmed_up: boolean;
}

export interface ProprioData {
  names: string[];
  position: number[];
  velocity: number[];
  effort: number[];
  gripper_opening: number;
  gripper_force: number;
  ee_pose: { x: number; y: number; z: number; yaw: number };
}

export interface ActionData {
  linear: [number, number, number];
  angular: [number, number, number];
  gripper: number;
}

export const STREAMS = {
  camera: 'camera/wrist',
  sceneCamera: 'camera/scene',
  tactileLeft: 'tactile/left',
  tactileRight: 'tactile/right',
  smell: 'smell',
  proprio: 'proprio',
  action: 'action',
} as const;
