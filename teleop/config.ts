// Teleop configuration: speeds, key and gamepad mappings, the dead-man
// timeouts and the streams' expected rates. One zod schema (the schema is the
// type); a JSON or YAML file overrides any part of it, and a bad value is
// reported with the file and the field, e.g.
// `teleop.yaml: speeds.linear_m_s: Too big: expected number to be <=1`.
// Browser-safe: no Node imports here (the file loader lives in config-file.ts).
import { z } from 'zod';

const positive = z.number().positive();
const keys = (d: string[]) => z.array(z.string().min(1)).default(d);

/**
 * Key names follow the browser's KeyboardEvent.key ('w', 'ArrowUp', ' ' for
 * space, 'Enter', 'Backspace'); the terminal decoder produces the same names,
 * so one map serves both. Letters are case-sensitive ('Q' is shift-q).
 */
export const KeyMap = z
  .object({
    forward: keys(['w', 'ArrowUp']),
    back: keys(['s', 'ArrowDown']),
    left: keys(['a', 'ArrowLeft']),
    right: keys(['d', 'ArrowRight']),
    up: keys(['r', 'PageUp']),
    down: keys(['f', 'PageDown']),
    yaw_left: keys(['q']),
    yaw_right: keys(['e']),
    /** Held: the gripper closes at speeds.gripper_per_s. */
    gripper_close: keys(['c']),
    /** Held: the gripper opens at speeds.gripper_per_s. */
    gripper_open: keys(['o']),
    /** Pressed: fully closed ↔ fully open. */
    gripper_toggle: keys(['g']),
    start: keys([' ']),
    save_success: keys(['y']),
    save_failure: keys(['n']),
    discard: keys(['x']),
    rerecord: keys(['b']),
    /** The terminal also quits on Ctrl-C. The web page has no quit. */
    quit: keys(['Q']),
  })
  .strict();
export type KeyMap = z.infer<typeof KeyMap>;

const Axis = z.object({ index: z.number().int().min(0), scale: z.number().min(-10).max(10) }).strict();

/** The W3C "standard" gamepad layout (Xbox-style): indices of axes and buttons. */
export const GamepadMap = z
  .object({
    /** Motion only while one of these buttons is held (LB, RB by default). */
    deadman_buttons: z.array(z.number().int().min(0)).min(1).default([4, 5]),
    deadzone: z.number().min(0).max(0.9).default(0.15),
    forward: Axis.default({ index: 1, scale: -1 }),
    left: Axis.default({ index: 0, scale: -1 }),
    up: Axis.default({ index: 3, scale: -1 }),
    yaw_left: Axis.default({ index: 2, scale: -1 }),
    /** Analog triggers as buttons: value 0…1 drives the gripper rate. */
    gripper_close_button: z.number().int().min(0).default(7),
    gripper_open_button: z.number().int().min(0).default(6),
    start_button: z.number().int().min(0).default(9),
    save_success_button: z.number().int().min(0).default(0),
    save_failure_button: z.number().int().min(0).default(1),
    discard_button: z.number().int().min(0).default(2),
    rerecord_button: z.number().int().min(0).default(3),
  })
  .strict();
export type GamepadMap = z.infer<typeof GamepadMap>;

/** Health thresholds of one stream (sensors' StreamConfig fields; unset → sensors' defaults). */
export const StreamHealth = z
  .object({
    expected_hz: positive,
    min_hz: positive,
    max_hz: positive,
    rate_tolerance: z.number().min(0).max(1),
    rate_window_s: positive,
    stale_after_s: positive,
    frozen_after_s: positive.nullable(),
  })
  .partial()
  .strict();

export const TeleopConfig = z
  .object({
    /** Rate of the command loop, Hz (the sim's control rate). */
    control_hz: z.number().min(1).max(200).default(20),
    speeds: z
      .object({
        /** End-effector speed along x and y at full deflection, m/s. */
        linear_m_s: positive.max(1).default(0.12),
        /** Along z, m/s. */
        vertical_m_s: positive.max(1).default(0.1),
        /** Hand yaw rate, rad/s. */
        yaw_rad_s: positive.max(3).default(0.8),
        /** Gripper command change per second while a gripper key is held (0 open … 1 closed). */
        gripper_per_s: positive.max(20).default(1.2),
      })
      .strict()
      .default({ linear_m_s: 0.12, vertical_m_s: 0.1, yaw_rad_s: 0.8, gripper_per_s: 1.2 }),
    deadman: z
      .object({
        /** A held input (browser key, button, gamepad) that is not refreshed within this expires: motion stops. */
        input_timeout_ms: z.number().int().min(50).max(2000).default(300),
        /**
         * A terminal without key-release events (most) only repeats a held key: a key
         * counts as held this long after its last press or repeat. Must exceed the
         * keyboard's auto-repeat delay (X11 660 ms, Linux console 250 ms, macOS ~225 ms).
         */
        key_hold_ms: z.number().int().min(50).max(2000).default(700),
        /** Stop commands sent after the last input lets go (so a lost packet cannot leave the robot moving). */
        stop_ticks: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .default({ input_timeout_ms: 300, key_hold_ms: 700, stop_ticks: 5 }),
    keys: KeyMap.default(KeyMap.parse({})),
    gamepad: GamepadMap.default(GamepadMap.parse({})),
    /** How the operator is warned about degraded streams while recording. */
    health: z
      .object({
        /**
         * A stream counts as stale after max(2 periods, this) without a sample. sensors'
         * default (2 periods: 20 ms at 100 Hz) suits the control loop's frames; live delivery
         * over a socket and an event loop jitters by tens of ms, which is not a stalled sensor.
         */
        stale_floor_s: positive.max(10).default(0.25),
        /** No warnings in the first seconds of a take (the world was just reset, streams start over). */
        warn_after_start_s: z.number().min(0).max(30).default(1),
        /** A warning is cleared ("OK again") only after the stream has been OK this long. */
        recover_after_s: z.number().min(0).max(30).default(1),
        /** "Above rate" warns only past expected × this (a burst after a delivery stall is not a fault). */
        max_rate_factor: z.number().min(1).max(100).default(1.5),
      })
      .strict()
      .default({ stale_floor_s: 0.25, warn_after_start_s: 1, recover_after_s: 1, max_rate_factor: 1.5 }),
    /** Per-stream health thresholds; the action stream runs at control_hz unless set here. */
    streams: z.record(z.string().min(1), StreamHealth).default({}),
    /** Who records (episode metadata). */
    operator: z.string().default(''),
    /** Service call timeout (reset, task status), s. */
    service_timeout_s: positive.max(60).default(5),
  })
  .strict();
export type TeleopConfig = z.infer<typeof TeleopConfig>;
export type TeleopConfigInput = z.input<typeof TeleopConfig>;

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly path: (string | number)[],
    readonly reason: string,
  ) {
    super(`${file}: ${path.length ? path.join('.') + ': ' : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

/** Validates a parsed config object; errors name `source` and the field. */
export function parseTeleopConfig(raw: unknown, source = 'teleop config'): TeleopConfig {
  const r = TeleopConfig.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p));
    throw new ConfigError(source, path, issue?.message ?? 'invalid');
  }
  return r.data;
}

export const defaultTeleopConfig = (): TeleopConfig => parseTeleopConfig({});
