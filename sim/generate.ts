// Demonstrations generated from a few recorded ones, as MimicGen does
// (Mandlekar et al., 2023): each recorded demonstration is cut into stages,
// one per object the hand works on (pick-place: at the mug, then at the
// plate), and a stage is replayed in a new layout with the hand's path moved
// by as much as its object moved. Between stages (and before the first) the
// hand goes in a straight line. A task may search among objects before its
// first stage, hovering over each without turning the gripper (find-smell
// sniffs jars until one smells): the recordings' hovers are pooled, and a new
// scene's search goes in the order the recordings searched, hovering over each
// object before the one its first stage works on, so a generated sweep can be
// longer than its source's. The replay runs in the simulator and only
// episodes that succeed are kept, so a generated demonstration is never worse
// than "it worked". The policy still learns from what the few recorded
// demonstrations did: nothing here asks the scripted expert.
//
// The generator reads where each object stands (the task's landmarks) when a
// stage begins: privileged state, as MimicGen's object poses are. It is used
// to make training data, never at run time.
import fs from 'node:fs';
import path from 'node:path';
import { episodeInfo, listLogs, loadEpisode, type ActionData, type EpisodeMeta, type ProprioData } from '../sensors/index.ts';
import type { SimAction } from './action.ts';
import type { Driver, EpisodeResult } from './episode.ts';
import { SimEnv, type CameraSource } from './env.ts';
import type { Target } from './expert.ts';
import { CONTROL_HZ } from './layout.ts';
import { episodeFileName, recordEpisode } from './record.ts';
import { TASK_NAMES, type Landmark, type TaskName } from './task.ts';

/** How close (horizontally, m) the hand must be to a stage's object for a tick to belong to that stage. */
export const STAGE_NEAR = 0.06;
/** How close (horizontally, m) the hand hovers over an object it searches (find-smell's sniff holds within 1 cm). */
export const HOVER_NEAR = 0.015;
/** Ticks a hover lasts at least (find-smell's sniff: 30); the hand crossing over an object on its way takes 2–5. */
export const HOVER_TICKS = 10;
/** The straight-line moves between stages (m/s): about the experts' carrying speed. */
export const LINK_SPEED = 0.15;

/** One control tick of a recorded demonstration: where the hand was and what the gripper was told. */
export interface SourceTick extends Target {
  gripper: number;
}

export interface SourceStage {
  /** The landmark this stage works on (Task.stages). */
  object: string;
  /** Where it stood in the recorded scene (world m). */
  at: { x: number; y: number };
  /** Ticks [from, to) of the demonstration. */
  from: number;
  to: number;
}

export interface SourceDemo {
  file: string;
  task: TaskName;
  seed: number;
  /** The recorded scene's Task.variant ('' where the task has none). */
  variant: string;
  ticks: SourceTick[];
  stages: SourceStage[];
  /** The hovers over objects searched (Task.searches) before the first stage, in order. */
  hovers: SourceStage[];
  /** Ticks the recording went on past its success (`sim run --after-success`); a replay goes on as long. */
  after: number;
}

/** Why a recorded demonstration cannot be a source (one line, names the file). */
export class SourceError extends Error {}

/**
 * The control ticks of a recorded episode: each action with the hand pose the proprio last
 * reported at or before it (the pose the command was issued from).
 */
export function sourceTicks(series: Map<string, { t_capture_ns: number; data: unknown }[]>, file: string): SourceTick[] {
  const actions = series.get('action');
  const proprio = series.get('proprio');
  if (!actions?.length) throw new SourceError(`${path.basename(file)}: no recorded actions`);
  if (!proprio?.length) throw new SourceError(`${path.basename(file)}: no proprio stream`);
  const ticks: SourceTick[] = [];
  let j = 0;
  for (const a of actions) {
    while (j + 1 < proprio.length && proprio[j + 1].t_capture_ns <= a.t_capture_ns) j++;
    const pose = (proprio[j].data as ProprioData).ee_pose;
    if (!pose) throw new SourceError(`${path.basename(file)}: proprio has no ee_pose`);
    ticks.push({ x: pose.x, y: pose.y, z: pose.z, yaw: pose.yaw, gripper: (a.data as ActionData).gripper });
  }
  return ticks;
}

/**
 * The tick each stage turns on: stage 0 the first tick the gripper starts closing, stage 1 the
 * first after that it starts opening, and so on (a grasp, then a release).
 */
export function gripperTurns(ticks: readonly SourceTick[], count: number): number[] {
  const turns: number[] = [];
  let closing = true;
  for (let t = 1; t < ticks.length && turns.length < count; t++) {
    const d = ticks[t].gripper - ticks[t - 1].gripper;
    if (closing ? d > 1e-6 : d < -1e-6) {
      turns.push(t - 1);
      closing = !closing;
    }
  }
  return turns;
}

/**
 * Cuts a demonstration into its stages: each is the run of ticks around its gripper turn during
 * which the hand stays within STAGE_NEAR of the stage's object; the last runs to the end.
 */
export function cutStages(ticks: readonly SourceTick[], objects: readonly { name: string; x: number; y: number }[], file: string, arrive = STAGE_NEAR): SourceStage[] {
  const turns = gripperTurns(ticks, objects.length);
  if (turns.length < objects.length) {
    throw new SourceError(`${path.basename(file)}: the gripper turns ${turns.length} times, the task's ${objects.length} stages need ${objects.length}`);
  }
  const near = (t: number, o: { x: number; y: number }) => Math.hypot(ticks[t].x - o.x, ticks[t].y - o.y) <= STAGE_NEAR;
  const stages: SourceStage[] = [];
  let floor = 0;
  objects.forEach((o, k) => {
    const turn = turns[k];
    if (!near(turn, o)) throw new SourceError(`${path.basename(file)}: the hand is not at the ${o.name} when the gripper turns (tick ${turn})`);
    let from = turn;
    while (from > floor && near(from - 1, o)) from--;
    // In a search (hovers before it), the way the hand arrived is the source's own: start at the hover.
    while (from < turn && Math.hypot(ticks[from].x - o.x, ticks[from].y - o.y) > arrive) from++;
    let to = turn + 1;
    if (k === objects.length - 1) to = ticks.length;
    else while (to < ticks.length && near(to, o)) to++;
    stages.push({ object: o.name, at: { x: o.x, y: o.y }, from, to });
    floor = to;
  });
  return stages;
}

/**
 * Cuts the hovers over the searched objects before tick `before`: each run of ticks within
 * STAGE_NEAR of one object, trimmed to its first and last tick within HOVER_NEAR (so neither the
 * way in nor the way out, which a new scene's order decides, is the source's), and kept where at
 * least HOVER_TICKS are within HOVER_NEAR (the hand crossing over an object is not a hover).
 */
export function cutHovers(ticks: readonly SourceTick[], objects: readonly { name: string; x: number; y: number }[], before: number): SourceStage[] {
  const dist = (t: number, o: { x: number; y: number }) => Math.hypot(ticks[t].x - o.x, ticks[t].y - o.y);
  const hovers: SourceStage[] = [];
  for (let t = 0; t < before; ) {
    const o = objects.find((c) => dist(t, c) <= STAGE_NEAR);
    if (!o) {
      t++;
      continue;
    }
    let from = -1;
    let to = -1;
    let over = 0;
    for (; t < before && dist(t, o) <= STAGE_NEAR; t++) {
      if (dist(t, o) > HOVER_NEAR) continue;
      if (from < 0) from = t;
      to = t + 1;
      over++;
    }
    if (over >= HOVER_TICKS) hovers.push({ object: o.name, at: { x: o.x, y: o.y }, from, to });
  }
  return hovers;
}

/** What a scene laid out from a seed holds: where its landmarks stand, its variant, its stages and what it searches. */
export interface SceneStages {
  landmarks: { name: string; x: number; y: number }[];
  variant: string;
  stages: readonly string[];
  /** The objects searched among before the first stage (Task.searches); absent where the task does not search. */
  searches?: readonly string[];
}

/**
 * Reads a recorded demonstration as a source: its ticks, its hovers and its stages cut at the
 * objects `where(seed)` says the recorded scene had (the simulator lays the scene out again from
 * the seed).
 */
export async function loadSource(file: string, where: (task: TaskName, seed: number) => Promise<SceneStages>): Promise<SourceDemo> {
  const ep = await loadEpisode(file);
  const meta: EpisodeMeta | null = ep.meta;
  if (!meta) throw new SourceError(`${path.basename(file)}: no episode metadata (task, seed)`);
  if (meta.success !== true) throw new SourceError(`${path.basename(file)}: not a successful episode (success: ${meta.success})`);
  const task = meta.task as TaskName;
  const ticks = sourceTicks(ep.series as Map<string, { t_capture_ns: number; data: unknown }[]>, file);
  const scene = await where(task, meta.seed);
  if (scene.stages.length === 0) throw new SourceError(`${task} has no stages to generate demonstrations by (Task.stages)`);
  const find = (name: string) => {
    const l = scene.landmarks.find((m) => m.name === name);
    if (!l) throw new SourceError(`${path.basename(file)}: the scene has no '${name}'`);
    return l;
  };
  // In a task that searches, the first stage may follow hovers in a new scene: it starts at its own hover.
  const stages = cutStages(ticks, scene.stages.map(find), file, scene.searches ? HOVER_NEAR : STAGE_NEAR);
  const hovers = cutHovers(ticks, (scene.searches ?? []).map(find), stages[0].from);
  return { file, task, seed: meta.seed, variant: scene.variant, ticks, stages, hovers, after: meta.after_success_ticks ?? 0 };
}

const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

/** A recorded hover over an object passed (SourceDemo.hovers): where the object stood, and the hand's path. */
export interface Hover {
  at: { x: number; y: number };
  path: readonly SourceTick[];
}

/** How a new scene is searched: in `order`, hovering over each object before the first stage's with the next of `hovers`. */
export interface Search {
  order: readonly string[];
  hovers: readonly Hover[];
  /** The pool's hover the first of this replay takes (the next ones follow). */
  first: number;
}

/**
 * The order the recordings searched in: the longest recorded search (its hovers, then the object
 * it found), then the objects no recording reached, by name. An operator searches the same way
 * each time; the expert's own order (nearest first) turns on centimetres no policy sees, and
 * demonstrations that turn either way from the same view teach a policy to stay.
 */
export function searchOrder(sources: readonly SourceDemo[], searches: readonly string[]): string[] {
  const longest = sources.map((s) => [...s.hovers.map((h) => h.object), s.stages[0].object]).reduce<string[]>((a, b) => (b.length > a.length ? b : a), []);
  return [...longest, ...[...searches].filter((o) => !longest.includes(o)).sort()];
}

/** The hovers of all the sources, pooled: a new scene's search may pass more objects than any one source did. */
export const hoversOf = (sources: readonly SourceDemo[]): Hover[] => sources.flatMap((s) => s.hovers.map((h) => ({ at: h.at, path: s.ticks.slice(h.from, h.to) })));

/**
 * Replays a source in the env's current scene: per stage, a straight line from where the hand
 * is to where the stage starts (moved with its object), then the stage's path, moved likewise.
 * In a task that searches, before the first stage a hover (`search`) over each object that comes
 * before the first stage's in the search order. The path is tracked with its own velocity fed
 * forward plus a correction toward it.
 */
export class StageReplay implements Driver {
  private plan: SourceTick[] = [];
  /** What is left to do: the new scene's object and the recorded path moved with it. */
  private route: { object: string; at: { x: number; y: number }; path: readonly SourceTick[] }[] | null = null;
  private last: SourceTick | null = null;
  private trend = 0;
  private readonly out: SimAction = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };

  constructor(
    private readonly source: SourceDemo,
    private readonly search: Search = { order: [], hovers: [], first: 0 },
    private readonly gain = 6,
  ) {}

  /** The route through the scene as laid out (its search and stages are read before anything moves). */
  private plan0(env: SimEnv): NonNullable<StageReplay['route']> {
    const stages = env.task.stages?.() ?? [];
    if (stages.length !== this.source.stages.length) throw new SourceError(`the scene has ${stages.length} stages, ${path.basename(this.source.file)} ${this.source.stages.length}`);
    const { order, hovers, first } = this.search;
    const passes = env.task.searches ? order.slice(0, Math.max(0, order.indexOf(stages[0]))) : [];
    if (passes.length > 0 && hovers.length === 0) throw new SourceError(`the search passes ${passes.length} objects before the ${stages[0]} and no recording hovers over one`);
    return [
      ...passes.map((object, i) => ({ object, ...hovers[(first + i) % hovers.length] })),
      ...stages.map((object, k) => {
        const s = this.source.stages[k];
        return { object, at: s.at, path: this.source.ticks.slice(s.from, s.to) };
      }),
    ];
  }

  /** The next stage's plan, built when it begins (the object is where it stands then). */
  private refill(env: SimEnv): void {
    const s = this.route!.shift()!;
    const now = env.task.landmarks?.().find((m) => m.name === s.object);
    if (!now) throw new SourceError(`the ${env.task.name} scene has no '${s.object}'`);
    const dx = now.x - s.at.x;
    const dy = now.y - s.at.y;
    const path = s.path.map((t) => ({ ...t, x: t.x + dx, y: t.y + dy }));
    const tool = env.robot.toolPoint();
    const from: SourceTick = this.last ?? { x: tool.x, y: tool.y, z: tool.z, yaw: env.robot.handYaw(), gripper: 0 };
    const to = path[0];
    const n = Math.max(2, Math.ceil((Math.hypot(to.x - from.x, to.y - from.y, to.z - from.z) / LINK_SPEED) * CONTROL_HZ));
    const dyaw = wrap(to.yaw - from.yaw);
    for (let i = 1; i < n; i++) {
      const f = i / n;
      this.plan.push({ x: from.x + f * (to.x - from.x), y: from.y + f * (to.y - from.y), z: from.z + f * (to.z - from.z), yaw: from.yaw + f * dyaw, gripper: from.gripper });
    }
    this.plan.push(...path);
  }

  act(env: SimEnv): SimAction {
    this.route ??= this.plan0(env);
    if (this.plan.length === 0 && this.route.length > 0) this.refill(env);
    const prev = this.last;
    // Past the path's end the hand stays, and the gripper goes on as it went: a demonstration
    // ends the tick the task succeeds, often mid-release, and a replay may need a tick more.
    const target = this.plan.shift() ?? { ...prev!, gripper: Math.max(0, Math.min(1, prev!.gripper + this.trend)) };
    if (prev && this.plan.length > 0) this.trend = target.gripper - prev.gripper;
    this.last = target;
    const robot = env.robot;
    const tool = robot.toolPoint();
    // World-frame velocity: the path's own (fed forward) plus a pull toward it.
    const from = prev ?? target;
    const vx = CONTROL_HZ * (target.x - from.x) + this.gain * (target.x - tool.x);
    const vy = CONTROL_HZ * (target.y - from.y) + this.gain * (target.y - tool.y);
    const vz = CONTROL_HZ * (target.z - from.z) + this.gain * (target.z - tool.z);
    const yaw = robot.q.baseYaw;
    const c = Math.cos(yaw);
    const s = Math.sin(yaw);
    const out = this.out;
    out.linear[0] = c * vx + s * vy;
    out.linear[1] = -s * vx + c * vy;
    out.linear[2] = vz;
    out.angular[0] = 0;
    out.angular[1] = 0;
    const eyaw = wrap(target.yaw - robot.handYaw());
    out.angular[2] = Math.max(-1.5, Math.min(1.5, CONTROL_HZ * wrap(target.yaw - from.yaw) + 3 * eyaw));
    out.gripper = target.gripper;
    return out;
  }
}

/** A scene laid out again from its seed: where its landmarks stand, its variant, stages and what it searches. */
export async function sceneOf(env: SimEnv, seed: number): Promise<SceneStages & { landmarks: Landmark[] }> {
  await env.reset(seed);
  const t = env.task;
  return { landmarks: t.landmarks?.() ?? [], variant: t.variant?.() ?? '', stages: t.stages?.() ?? [], searches: t.searches?.() };
}

/** The operator recorded in a generated episode's metadata: `generated/<source file>`. */
export const GENERATED_PREFIX = 'generated/';

export interface GenerateOptions {
  /** A folder of recorded demonstrations (logs a generation wrote there are not sources). */
  sourceDir: string;
  /** Successful episodes to keep. */
  episodes: number;
  /** The first seed tried; each try takes the next. */
  firstSeed: number;
  /** Tries before giving up (default 3 × episodes). */
  maxAttempts?: number;
  outDir: string;
  camera?: CameraSource | null;
  fsync?: boolean;
  /** Ticks recorded past a success (runEpisode's `after`; default: as long as the source's recording went on). */
  after?: number;
  onAttempt?: (attempt: number, kept: number, result: EpisodeResult) => void;
}

export interface GenerateResult {
  task: TaskName;
  sources: SourceDemo[];
  kept: EpisodeResult[];
  attempts: number;
  /** Failed tries by cause. */
  failures: Record<string, number>;
}

/**
 * Generates demonstrations from the recorded ones in `sourceDir`: try i lays out seed
 * firstSeed + i and replays in it the next of the sources recorded in a scene of the same
 * variant (a try with none fails as `no_source`); a log is written only for a try that succeeds.
 * An existing log is never overwritten (a seed that names one is an error before anything runs).
 */
export async function generateEpisodes(opts: GenerateOptions): Promise<GenerateResult> {
  const { finalized } = await listLogs(opts.sourceDir);
  const infos = await Promise.all(finalized.map((f) => episodeInfo(f)));
  const isRecorded = infos.map((info) => !(info.operator ?? '').startsWith(GENERATED_PREFIX));
  const recorded = finalized.filter((_, i) => isRecorded[i]);
  if (recorded.length === 0) throw new SourceError(`${opts.sourceDir}: no recorded demonstrations (finalized .mcap logs)`);
  const tasks = new Set(infos.filter((_, i) => isRecorded[i]).map((info) => info.task));
  if (tasks.size !== 1) throw new SourceError(`${opts.sourceDir}: demonstrations of ${tasks.size} tasks (${[...tasks].join(', ')}); generate from one task's`);
  const task = [...tasks][0] as TaskName;
  if (!(TASK_NAMES as readonly string[]).includes(task)) throw new SourceError(`${opts.sourceDir}: unknown task '${task}'`);
  const maxAttempts = opts.maxAttempts ?? 3 * opts.episodes;
  for (let i = 0; i < maxAttempts; i++) {
    const file = path.join(opts.outDir, episodeFileName(task, opts.firstSeed + i));
    if (fs.existsSync(file)) throw new SourceError(`${file} exists; generation never overwrites a log (choose another --seed)`);
  }
  // Where the recorded scenes had their objects, and each try's variant: laid out from the seed, without a camera.
  const lookup = new SimEnv({ task, camera: null });
  let env: SimEnv | null = null;
  const sources: SourceDemo[] = [];
  const kept: EpisodeResult[] = [];
  const failures: Record<string, number> = {};
  const fail = (cause: string) => void (failures[cause] = (failures[cause] ?? 0) + 1);
  let attempts = 0;
  const used = new Map<string, number>();
  try {
    for (const f of recorded) sources.push(await loadSource(f, (_, seed) => sceneOf(lookup, seed)));
    const hovers = hoversOf(sources);
    const order = searchOrder(sources, lookup.task.searches?.() ?? []);
    fs.mkdirSync(opts.outDir, { recursive: true });
    env = new SimEnv({ task, camera: opts.camera ?? null });
    while (kept.length < opts.episodes && attempts < maxAttempts) {
      // The sources of this layout's variant, taken in turn.
      const seed = opts.firstSeed + attempts;
      const { variant, stages } = await sceneOf(lookup, seed);
      const fitting = sources.filter((s) => s.variant === variant);
      if (fitting.length === 0 || (order.indexOf(stages[0]) > 0 && hovers.length === 0)) {
        attempts++;
        fail(fitting.length === 0 ? 'no_source' : 'no_hover');
        continue;
      }
      const turn = used.get(variant) ?? 0;
      used.set(variant, turn + 1);
      const source = fitting[turn % fitting.length];
      const { result } = await recordEpisode(env, seed, () => new StageReplay(source, { order, hovers, first: attempts }), {
        outDir: opts.outDir,
        operator: GENERATED_PREFIX + path.basename(source.file),
        notes: `generated from ${path.basename(source.file)} (senseact sim generate)`,
        fsync: opts.fsync,
        after: opts.after ?? source.after,
        keep: (r) => r.success,
      });
      attempts++;
      if (result.success) kept.push(result);
      else fail(result.failure ?? 'unknown');
      opts.onAttempt?.(attempts, kept.length, result);
    }
  } finally {
    env?.close();
    lookup.close();
  }
  return { task, sources, kept, attempts, failures };
}
