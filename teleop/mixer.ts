// Operator inputs → one end-effector twist + gripper command, with the
// dead-man rule: every input is "held" only until its deadline; an input that
// is not refreshed (a key let go, a browser tab that lost focus, a dropped
// socket) expires and motion stops. Several sources (terminal keys, browser
// keys, on-screen buttons, a gamepad) may be held at once; their axes add and
// clamp to ±1 before scaling by the configured speeds.
// Browser-safe and clock-free: callers pass the time.
import type { GamepadMap, KeyMap, TeleopConfig } from './config.ts';

/** Normalized operator intent, each axis in −1…1 (x forward, y left, z up, yaw left; gripper + closes). */
export interface AxisInput {
  x: number;
  y: number;
  z: number;
  yaw: number;
  gripper: number;
}

/** The command the robot receives: sensors' ActionData shape. */
export interface TeleopAction {
  linear: [number, number, number];
  angular: [number, number, number];
  gripper: number;
}

export const zeroInput = (): AxisInput => ({ x: 0, y: 0, z: 0, yaw: 0, gripper: 0 });

/** Clamps to −1…1; NaN and −0 become 0. */
const clamp1 = (v: number) => (v > 1 ? 1 : v < -1 ? -1 : Number.isFinite(v) && v !== 0 ? v : 0);

/** Axes from the set of keys held now. */
export function axesFromKeys(held: Iterable<string>, map: KeyMap): AxisInput {
  const h = held instanceof Set ? (held as Set<string>) : new Set(held);
  const any = (names: string[]) => names.some((k) => h.has(k));
  const axis = (pos: string[], neg: string[]) => (any(pos) ? 1 : 0) - (any(neg) ? 1 : 0);
  return {
    x: axis(map.forward, map.back),
    y: axis(map.left, map.right),
    z: axis(map.up, map.down),
    yaw: axis(map.yaw_left, map.yaw_right),
    gripper: axis(map.gripper_close, map.gripper_open),
  };
}

/** The motion keys of a map (the ones that must be held). */
export function heldKeysOf(map: KeyMap): Set<string> {
  return new Set([...map.forward, ...map.back, ...map.left, ...map.right, ...map.up, ...map.down, ...map.yaw_left, ...map.yaw_right, ...map.gripper_close, ...map.gripper_open]);
}

export interface GamepadLike {
  axes: readonly number[];
  buttons: readonly { pressed: boolean; value: number }[];
}

/** Axes from a gamepad, or null while no dead-man button is held (then the gamepad commands nothing). */
export function axesFromGamepad(gp: GamepadLike, map: GamepadMap): AxisInput | null {
  if (!map.deadman_buttons.some((b) => gp.buttons[b]?.pressed)) return null;
  const dz = (v: number | undefined) => {
    const x = v ?? 0;
    if (Math.abs(x) <= map.deadzone) return 0;
    // Rescale so output starts at 0 just outside the dead zone.
    return (Math.sign(x) * (Math.abs(x) - map.deadzone)) / (1 - map.deadzone);
  };
  const ax = (a: { index: number; scale: number }) => clamp1(dz(gp.axes[a.index]) * a.scale);
  const btn = (i: number) => gp.buttons[i]?.value ?? (gp.buttons[i]?.pressed ? 1 : 0);
  return { x: ax(map.forward), y: ax(map.left), z: ax(map.up), yaw: ax(map.yaw_left), gripper: clamp1(btn(map.gripper_close_button) - btn(map.gripper_open_button)) };
}

interface Held {
  input: AxisInput;
  deadlineMs: number;
}

export interface MixResult {
  action: TeleopAction;
  /** Some input commands motion (or gripper change) now. */
  engaged: boolean;
  /** Which sources are held now. */
  sources: string[];
}

export class TeleopMixer {
  private readonly held = new Map<string, Held>();
  /** Gripper command 0 open … 1 closed; it stays where the operator left it. */
  gripper = 0;

  constructor(private readonly config: TeleopConfig) {}

  /** Holds `input` from `source` until `nowMs + ttlMs` (default: the dead-man input timeout). */
  hold(source: string, input: AxisInput, nowMs: number, ttlMs = this.config.deadman.input_timeout_ms): void {
    this.held.set(source, { input: { x: clamp1(input.x), y: clamp1(input.y), z: clamp1(input.z), yaw: clamp1(input.yaw), gripper: clamp1(input.gripper) }, deadlineMs: nowMs + ttlMs });
  }

  release(source: string): void {
    this.held.delete(source);
  }

  releaseAll(): void {
    this.held.clear();
  }

  setGripper(v: number): void {
    this.gripper = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  }

  toggleGripper(): void {
    this.gripper = this.gripper >= 0.5 ? 0 : 1;
  }

  /** The command for the tick ending at `nowMs`, `dtS` after the previous one. */
  tick(nowMs: number, dtS: number): MixResult {
    const sum = zeroInput();
    const sources: string[] = [];
    for (const [name, h] of this.held) {
      if (nowMs > h.deadlineMs) {
        this.held.delete(name);
        continue;
      }
      sources.push(name);
      sum.x += h.input.x;
      sum.y += h.input.y;
      sum.z += h.input.z;
      sum.yaw += h.input.yaw;
      sum.gripper += h.input.gripper;
    }
    const s = this.config.speeds;
    const g = clamp1(sum.gripper);
    if (g !== 0) this.setGripper(this.gripper + g * s.gripper_per_s * Math.max(0, dtS));
    const action: TeleopAction = {
      linear: [clamp1(sum.x) * s.linear_m_s, clamp1(sum.y) * s.linear_m_s, clamp1(sum.z) * s.vertical_m_s],
      angular: [0, 0, clamp1(sum.yaw) * s.yaw_rad_s],
      gripper: this.gripper,
    };
    const engaged = action.linear.some((v) => v !== 0) || action.angular[2] !== 0 || g !== 0;
    return { action, engaged, sources };
  }
}
