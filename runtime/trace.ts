// Per-tick traces of evaluation episodes (`senseact eval --trace FILE`): where
// the tool and the task's objects were, what the policy commanded and what the
// pads felt, one JSON line per tick, and a closing line per episode. A success
// rate says that episodes failed; a trace says how (the jar slipped as the hand
// set off, the hand hovered over the bin), which is what the next change needs.
// Written to a temporary name and renamed when evaluation ends, so a killed run
// leaves no half trace under the final name.
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, tempNameFor } from '../sensors/files.ts';
import type { SimAction, SimEnv } from '../sim/index.ts';

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
const xyz = (p: { x: number; y: number; z: number }): [number, number, number] => [r4(p.x), r4(p.y), r4(p.z)];

export interface TraceTick {
  seed: number;
  tick: number;
  /** Tool point (m, world frame) and hand yaw (rad) after the step. */
  tool: [number, number, number];
  yaw: number;
  /** What the policy commanded this tick: linear twist (m/s) and gripper (0 open … 1 closed). */
  linear: [number, number, number];
  gripper: number;
  /** Total normal force on each pad (N). */
  grip_force: [number, number];
  /** The task's movable objects (the robot's own bodies left out): position of each. */
  objects: Record<string, [number, number, number]>;
}

export interface TraceEnd {
  seed: number;
  end: true;
  success: boolean;
  failure: string | null;
  steps: number;
  milestones: Record<string, boolean>;
  /** The task's own account (sim info): target and chosen objects, where things ended. */
  info: Record<string, unknown>;
}

/** One tick of an episode, read from the simulator after the step. */
export function traceTick(env: SimEnv, seed: number, action: SimAction): TraceTick {
  const objects: Record<string, [number, number, number]> = {};
  const seen = new Set<unknown>();
  for (const t of env.sim.things) {
    // One body can carry several visuals (the door and its handle): its first name stands for it.
    if (t.name.startsWith('robot') || !t.body.isDynamic() || seen.has(t.body)) continue;
    seen.add(t.body);
    objects[t.name] = xyz(t.body.translation());
  }
  return {
    seed,
    tick: env.tick,
    tool: xyz(env.robot.toolPoint()),
    yaw: r4(env.robot.handYaw()),
    linear: [r4(action.linear[0]), r4(action.linear[1]), r4(action.linear[2])],
    gripper: r4(action.gripper),
    grip_force: [r4(env.touch.normalTotal[0]), r4(env.touch.normalTotal[1])],
    objects,
  };
}

/** A JSON-lines file that appears under its name only when closed. */
export class TraceWriter {
  private readonly tmp: string;
  private fd: number | null;

  constructor(readonly file: string) {
    this.tmp = tempNameFor(file);
    this.fd = fs.openSync(this.tmp, 'wx');
  }

  write(record: TraceTick | TraceEnd): void {
    if (this.fd === null) throw new Error(`${this.file}: trace already closed`);
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  /** fsync, rename to the final name, fsync the directory. */
  close(): void {
    if (this.fd === null) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = null;
    fs.renameSync(this.tmp, this.file);
    fsyncDir(path.dirname(path.resolve(this.file)));
  }

  /** Drops the unfinished trace (the evaluation failed). */
  discard(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    fs.rmSync(this.tmp, { force: true });
  }
}
