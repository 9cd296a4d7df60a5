// The Robot interface: what the control loop drives, whether the robot is the
// in-process simulator, a robot (or `sim serve`) behind rosbridge, or a log
// being replayed. Samples come out as sample-shaped objects that the caller
// pushes into sensors/ Streams (which validate them); actions go in.
import { EventEmitter } from 'node:events';
import type { ActionData, Clock } from '../sensors/index.ts';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** A sample as it arrives, before validation (Stream.push validates it). */
export interface RawSample {
  stream: string;
  t_capture_ns: number;
  t_receive_ns: number;
  seq: number;
  data: unknown;
}

export interface RobotCounters {
  /** Connections opened after the first one. */
  reconnects: number;
  /** Motion commands (twist/gripper pairs) sent. */
  commands_sent: number;
  /** Safe-stop commands sent (also counted in commands_sent). */
  stops_sent: number;
  /** Motion commands refused because the link was down (never queued). */
  motion_suppressed: number;
  /** Frames that were not a valid rosbridge message (not JSON, ...). */
  malformed_frames: number;
  /** Samples whose header stamp jumped beyond the clock tracker's tolerance. */
  clock_jumps: number;
  /** Messages per input topic, as received. */
  messages: Record<string, number>;
}

/** diagnostic_msgs/DiagnosticStatus, without the header (the adapter stamps it). */
export interface DiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: { key: string; value: string }[];
}

export interface RobotEvents {
  sample: [RawSample];
  connection: [ConnectionState];
  /** An e-stop input changed (true: engaged). */
  estop: [boolean];
  /** A received message could not be used at all (not a rosbridge message). */
  malformed: [{ topic: string | null; reason: string }];
}

export interface Robot {
  readonly kind: 'sim' | 'rosbridge' | 'replay';
  /** Where it is: a ws:// URL, 'sim:TASK', or the log file. */
  readonly address: string;
  readonly state: ConnectionState;
  readonly counters: RobotCounters;
  /** The clock sample receive times are taken on (the loop runs on it too). */
  readonly clock: Clock;
  /** Stream names this robot delivers. */
  readonly streams: readonly string[];
  readonly events: EventEmitter<RobotEvents>;
  start(): Promise<void>;
  /** Sends a safe stop if connected, then disconnects for good. */
  close(): Promise<void>;
  /** Sends one command; false (and nothing queued) when it cannot be sent now. */
  command(action: ActionData): boolean;
  /** Zero twist, gripper held at its last command; false when it cannot be sent now. */
  safeStop(): boolean;
  /** Publishes health (diagnostic_msgs/DiagnosticArray) where the robot has a place for it. */
  publishHealth(status: DiagnosticStatus[], stampNs: number): void;
  /** Calls a service with a timeout; rejects at once when not connected. */
  callService<T = unknown>(name: string, type: string, args: unknown, timeoutS?: number): Promise<T>;
  /** Resolves once everything sent so far has left the process (or after `timeoutMs`). */
  drain(timeoutMs?: number): Promise<void>;
}

export function newCounters(): RobotCounters {
  return { reconnects: 0, commands_sent: 0, stops_sent: 0, motion_suppressed: 0, malformed_frames: 0, clock_jumps: 0, messages: {} };
}

/** The stop command: zero twist, the gripper where it was last commanded. */
export function stopAction(gripper: number): ActionData {
  return { linear: [0, 0, 0], angular: [0, 0, 0], gripper };
}
