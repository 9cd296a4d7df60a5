// What the recording session needs from a robot: samples in, commands out,
// a reset between episodes, and its connection state. runtime-robot.ts adapts
// any of runtime/'s Robot adapters to it: SimRobot (the simulator in-process,
// in real time) for `--robot sim`, RosbridgeRobot for ws://.
import type { TeleopAction } from './mixer.ts';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface Connection {
  state: ConnectionState;
  /** What happened last, in words ("connected to ws://…", "connection lost: …, retrying"). */
  detail: string;
  /** Wall-clock ms of the last change. */
  since_ms: number;
}

/** A sample-shaped object as it arrives (validated by sensors' Stream and LogWriter). */
export interface RawSample {
  stream: string;
  t_capture_ns: number;
  t_receive_ns: number;
  seq: number;
  data: unknown;
}

export interface ResetResult {
  ok: boolean;
  message: string;
}

export interface TeleopRobot {
  /** For episode metadata: 'senseact-sim' or the rosbridge URL. */
  readonly name: string;
  /** The streams this robot should deliver (their health is watched). */
  readonly streams: readonly string[];
  /** True when the robot reports the commands it applied on the `action` stream itself. */
  readonly reportsActions: boolean;
  onSample: (s: RawSample) => void;
  onConnection: (c: Connection) => void;
  connection(): Connection;
  start(): Promise<void>;
  /** Sends one command; false when it could not be sent (not connected). Never queues. */
  command(a: TeleopAction): boolean;
  /** Starts a new episode (seeded where the robot supports it). */
  reset(seed: number): Promise<ResetResult>;
  /** The task the robot reports (the simulator's task_status service), or null. */
  task(): Promise<string | null>;
  close(): Promise<void>;
}
