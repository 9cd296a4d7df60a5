// From dataset examples (or live frames) to the normalized arrays the network
// reads, with training-time augmentation. Kept apart from the model, as
// LeRobot keeps its processors, so the daemon and the trainer share it.
import type { Example, Layout, NormStats } from '../sensors/index.ts';
import { ACTION_NAMES, Accumulator, MASK_ORDER } from '../sensors/index.ts';
import type { PolicyConfig } from './config.ts';
import { positionCount } from './history.ts';
import type { ShiftedView } from './shifts.ts';
import { TrainRefusal } from './refusal.ts';

/** Normalization constants the policy needs, frozen into the checkpoint. */
export interface Normalizer {
  image: { mean: number[]; std: number[] };
  /** The scene camera's colour statistics (when the policy reads one). */
  scene?: { mean: number[]; std: number[] };
  tactile: { mean: number[]; std: number[] };
  smell: { mean: number[]; std: number[] };
  proprio: { mean: number[]; std: number[] };
  action: { mean: number[]; std: number[] };
}

export interface FeatureDims {
  tactile: number;
  smellChannels: number;
  smell: number;
  /** Width of the proprio features: the proprio vector, then `history` motion-history entries. */
  proprio: number;
  history: number;
  /** Indices of the proprio entries the network reads (config.proprio_keep); absent = all. The others, and their history, read 0. */
  proprio_keep?: number[];
  /** Index of gripper_force in the proprio vector, when the scene camera is seen only while holding (config.scene_when). */
  grip_force?: number;
  /** Each tactile pad's grid and where its values start (augment.tactile_shift moves contacts across it). */
  pads?: { offset: number; rows: number; cols: number }[];
}

/** A policy example: the dataset's example plus its motion history (policy/history.ts), when the config has one. */
export interface PolicyExample extends Example {
  history?: Float32Array;
  /** The episode's first smell reading per channel (policy/context.ts). */
  smell_baseline?: Float32Array;
  /** Waypoint actions: the tool's height (m) above the lowest point of the free approach, on its ticks (undefined once the gripper closed). */
  above_grasp?: number;
  /** Waypoint actions, the carry (markCarry, policy/carry.ts): the tool's height above that point, and the pixels the hand and what it holds cover (1), which a view shift leaves in place. */
  carry_above?: number;
  held_pixels?: Uint8Array;
  /** Rendered views of this frame with the robot moved aside (augment.rendered_shift, policy/shifts.ts). */
  shifted?: ShiftedView[];
}

const ACTION_DIM = 7;
const MIN_STD = 1e-3;

function safeStd(std: readonly number[]): number[] {
  return std.map((s) => (Number.isFinite(s) && s > MIN_STD ? s : 1));
}

export function featureDims(layout: Layout, config: PolicyConfig): FeatureDims {
  const tactile = layout.tactile.taxels.reduce((a, b) => a + (b ?? 0), 0);
  const smellChannels = layout.smell.channels.length;
  const history = config.proprio_history.steps * positionCount(layout.proprio.names);
  const names = layout.proprio.names;
  const unknown = config.proprio_keep.filter((n) => !names.includes(n));
  if (unknown.length) throw new TrainRefusal(`proprio_keep: ${unknown.join(', ')} not in the dataset's proprio entries (${names.join(', ')})`);
  const holding = config.scene_camera !== null && config.scene_when === 'holding';
  if (holding && !names.includes('gripper_force')) throw new TrainRefusal(`scene_when "holding" reads the grip force, and the dataset's proprio has no gripper_force (${names.join(', ') || 'no proprio stream'})`);
  const grids = layout.tactile.grids;
  const starts = layout.tactile.taxels.map((_, i) => layout.tactile.taxels.slice(0, i).reduce((a, b) => a + b, 0));
  const pads = grids && grids.length === layout.tactile.taxels.length ? grids.map((g, i) => ({ offset: starts[i], ...g })) : undefined;
  if (config.augment.tactile_shift > 0 && tactile > 0 && !pads) throw new TrainRefusal('augment.tactile_shift moves contacts across each pad\'s taxel grid, and this dataset\'s layout does not give the grids');
  return {
    tactile,
    smellChannels,
    // The history window plus the change over it (the "baseline-relative" reading).
    smell: smellChannels * (config.smell_history + 1),
    proprio: names.length + history,
    history,
    ...(config.proprio_keep.length ? { proprio_keep: config.proprio_keep.map((n) => names.indexOf(n)) } : {}),
    ...(holding ? { grip_force: names.indexOf('gripper_force') } : {}),
    ...(pads ? { pads } : {}),
  };
}

/**
 * Spread of ln(R0 / R), the baseline-relative smell reading, per channel over
 * every valid history row of the examples: what "a lot of odour" means for
 * this sensor. The mean stays 0: clean air reads 0 on every sensor.
 */
function smellSpread(examples: readonly PolicyExample[], C: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(C);
  let n = 0;
  for (const ex of examples) {
    const b = ex.smell_baseline;
    if (!b) continue;
    for (let r = 0; r < ex.smell_valid.length; r++) {
      if (!ex.smell_valid[r]) continue;
      for (let c = 0; c < C; c++) {
        const v = Math.log(b[c] / ex.smell[r * C + c]);
        if (Number.isFinite(v)) sum[c] += v * v;
      }
      n++;
    }
  }
  return { mean: new Array(C).fill(0), std: safeStd([...sum].map((s) => Math.sqrt(s / Math.max(1, n)))) };
}

/** Mean and spread of the action targets over every valid chunk row (waypoint labels have no dataset statistics). */
export function actionSpread(examples: readonly PolicyExample[]): { mean: number[]; std: number[] } {
  const acc = new Accumulator(ACTION_NAMES);
  for (const ex of examples) for (let r = 0; r < ex.action_valid.length; r++) if (ex.action_valid[r]) acc.add(ex.actions, r * ACTION_DIM);
  const { mean, std } = acc.result();
  return { mean, std: safeStd(std) };
}

export function makeNormalizer(stats: NormStats, layout: Layout, examples: readonly PolicyExample[] = []): Normalizer {
  const cam = layout.camera ? stats.camera[layout.camera] : undefined;
  const scene = layout.scene_camera ? stats.camera[layout.scene_camera] : undefined;
  // Touch is symlog-squashed before normalizing, so one spread fits every taxel.
  const tactileStd = layout.tactile.streams.map((s) => stats.tactile[s]?.std ?? [1, 1, 1]).flat();
  const tactileScale = Math.max(MIN_STD, Math.log1p(Math.max(...tactileStd, 0)));
  const C = layout.smell.channels.length;
  return {
    image: { mean: cam?.mean ?? [0.5, 0.5, 0.5], std: safeStd(cam?.std ?? [0.25, 0.25, 0.25]) },
    ...(layout.scene_camera ? { scene: { mean: scene?.mean ?? [0.5, 0.5, 0.5], std: safeStd(scene?.std ?? [0.25, 0.25, 0.25]) } } : {}),
    tactile: { mean: [0], std: [tactileScale] },
    smell: smellSpread(examples, C),
    proprio: { mean: stats.proprio?.mean ?? [], std: safeStd(stats.proprio?.std ?? []) },
    action: { mean: stats.action?.mean ?? new Array(ACTION_DIM).fill(0), std: safeStd(stats.action?.std ?? new Array(ACTION_DIM).fill(1)) },
  };
}

/** A batch of network inputs as flat arrays, row-major, with shapes implied by dims. */
export interface FeatureBatch {
  size: number;
  image: Float32Array; // [B, H, W, 3]
  /** The scene camera's image [B, H, W, 3] (empty without one) and 1 where its frame is missing [B, 1]. */
  scene: Float32Array;
  sceneMissing: Float32Array;
  tactile: Float32Array; // [B, T]
  smell: Float32Array; // [B, S]
  proprio: Float32Array; // [B, P]
  /** 1 = modality missing or dropped: [B, 4] in MASK_ORDER. */
  mask: Float32Array;
  actions: Float32Array; // [B, chunk, 7] normalized targets
  actionValid: Float32Array; // [B, chunk]
}

export interface Augment {
  rand: () => number;
  config: PolicyConfig['augment'];
  /** The camera's fy / image height (the dataset layout's `focal`): view shifts need it. */
  focal?: number;
}

/**
 * A view shift (SPARTN's corrective augmentation without a renderer): while
 * the hand holds nothing, moving the tool sideways by δ moves the scene in the
 * down-looking wrist camera by δ / (metres per pixel) and the waypoint by −δ.
 * So a random image shift with its label moved to match shows the network the
 * object at places the demonstrations never put it, with the right answer —
 * the equivariance three demos cannot teach. Image up is the hand's forward
 * (+x), image right its −y. Metres per pixel use the depth of the grasp point
 * below the camera; an error in that scale only slows the closed loop's
 * convergence, since a centred object still means "no sideways move".
 */
export function viewShift(ex: PolicyExample, config: PolicyConfig, augment: Augment | null): { px: number; py: number; dx: number; dy: number } {
  const s = augment?.config.view_shift ?? 0;
  const above = ex.above_grasp ?? (augment?.config.view_shift_carry ? ex.carry_above : undefined);
  if (!augment || s === 0 || above === undefined || !augment.focal) return { px: 0, py: 0, dx: 0, dy: 0 };
  const px = Math.floor(augment.rand() * (2 * s + 1)) - s;
  const py = Math.floor(augment.rand() * (2 * s + 1)) - s;
  const metresPerPx = (above + augment.config.view_depth) / (augment.focal * config.image.height);
  // Content moved right (+px) stands further to the hand's −y; moved down (+py), further back.
  return { px, py, dx: -py * metresPerPx, dy: -px * metresPerPx };
}

function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * augment.touch_overload: a gain ≥ 1 on every taxel force of a frame where the demonstration holds
 * its grip while touching, 1 elsewhere. Holding means the delta gripper label is 0 on every valid
 * chunk row: no more closing, and no opening (a release is keyed on the load leaving the pads, which
 * a gain would blur). Taxels are [shear, shear, normal] triples, as every pad in a layout is.
 */
export function overloadGain(ex: PolicyExample, augment: Augment): number {
  const o = augment.config.touch_overload;
  if (!o) return 1;
  let normal = 0;
  for (let i = 2; i < ex.tactile.length; i += 3) normal += ex.tactile[i];
  if (normal < o.contact) return 1;
  for (let r = 0; r < ex.action_valid.length; r++) if (ex.action_valid[r] && Math.abs(ex.actions[r * ACTION_DIM + 6]) > HOLDING) return 1;
  return augment.rand() < o.share ? 1 + augment.rand() * (o.max_gain - 1) : 1;
}

/**
 * augment.tactile_shift: each pad's contact moved by a random whole number of taxels (up to `reach`
 * in rows and in columns, each pad on its own). A press moved past the grid's edge is felt at the
 * edge taxels, its force kept: dropped, it would teach that a weaker reading can be the same firm
 * grip (measured: that policy stopped closing at a third of the demonstrations' force). Where on the
 * pad an object presses does not say how firmly it is held, but three demonstrations grasp at three
 * heights within a few millimetres, and a network fitted to them reads the rows those touched: one
 * row lower, the firm grip of a training frame read as no grip at all. Shifted, it grasped higher and
 * weakly instead (docs/results.md, "An ensemble of six").
 */
export function shiftTaxels(forces: Float32Array, pads: NonNullable<FeatureDims['pads']>, reach: number, rand: () => number): Float32Array {
  const out = new Float32Array(forces.length);
  for (const { offset, rows, cols } of pads) {
    const dr = Math.floor(rand() * (2 * reach + 1)) - reach;
    const dc = Math.floor(rand() * (2 * reach + 1)) - reach;
    for (let r = 0; r < rows; r++) {
      const tr = Math.min(rows - 1, Math.max(0, r + dr));
      for (let c = 0; c < cols; c++) {
        const tc = Math.min(cols - 1, Math.max(0, c + dc));
        for (let k = 0; k < 3; k++) out[offset + (tr * cols + tc) * 3 + k] += forces[offset + (r * cols + c) * 3 + k];
      }
    }
  }
  return out;
}

/** A delta gripper label this small (per chunk row) is "no change": float rounding of equal commands. */
const HOLDING = 1e-4;

/**
 * Fills `out` (row b) from one example. With `augment`, applies a random
 * shift and colour jitter to the image, noise to touch and smell, and masks
 * whole modalities at random.
 */
export function encodeExample(ex: PolicyExample, b: number, out: FeatureBatch, config: PolicyConfig, norm: Normalizer, dims: FeatureDims, augment: Augment | null): void {
  const { width: W, height: H } = config.image;
  const imgSize = W * H * 3;
  const mask = out.mask.subarray(b * 4, b * 4 + 4);
  for (let m = 0; m < 4; m++) {
    const enabled = config.modalities.includes(MASK_ORDER[m]);
    const rate = augment ? augment.config.modality_dropout : 0;
    const dropped = augment ? augment.rand() < (typeof rate === 'number' ? rate : rate[MASK_ORDER[m]]) : false;
    mask[m] = !enabled || ex.mask[m] || dropped ? 1 : 0;
  }

  // Image: shift by (dx, dy) with edge replication, then jitter and normalize.
  const img = out.image.subarray(b * imgSize, (b + 1) * imgSize);
  if (ex.image.length !== imgSize) throw new Error(`example image has ${ex.image.length} bytes, the policy expects ${W}×${H}×3`);
  const s = augment?.config.shift ?? 0;
  // A rendered view of the tool moved by (dx, dy) replaces the image; its waypoint stays in the world, so the label moves by −(dx, dy).
  const share = augment?.config.rendered_shift?.share ?? 0;
  const alt = augment && ex.shifted?.length && augment.rand() < share ? ex.shifted[Math.floor(augment.rand() * ex.shifted.length)] : null;
  const image = alt ? alt.image : ex.image;
  const view = alt ? { px: 0, py: 0, dx: -alt.dx, dy: -alt.dy } : viewShift(ex, config, augment);
  const dx = (augment ? Math.floor(augment.rand() * (2 * s + 1)) - s : 0) - view.px;
  const dy = (augment ? Math.floor(augment.rand() * (2 * s + 1)) - s : 0) - view.py;
  // A carry's view shift moves the scene, not the hand and what it holds: their pixels stay, and
  // where the shift would drag them over the scene, the scene's own pixel stays instead.
  const held = ex.above_grasp === undefined && (view.px !== 0 || view.py !== 0) ? ex.held_pixels : undefined;
  const gain = augment ? 1 + (augment.rand() * 2 - 1) * augment.config.color_jitter : 1;
  const bias = augment ? (augment.rand() * 2 - 1) * augment.config.color_jitter * 0.5 : 0;
  const { mean: im, std: is } = norm.image;
  for (let y = 0; y < H; y++) {
    const sy = Math.min(H - 1, Math.max(0, y + dy));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(W - 1, Math.max(0, x + dx));
      const dst = (y * W + x) * 3;
      const src = held && (held[y * W + x] || held[sy * W + sx]) ? dst : (sy * W + sx) * 3;
      for (let c = 0; c < 3; c++) img[dst + c] = mask[0] ? 0 : ((image[src + c] / 255) * gain + bias - im[c]) / is[c];
    }
  }
  if (config.scene_camera) {
    // The fixed camera: its own random shift (augment.scene_shift), the same light; never a view shift (it does not move with the hand).
    if (ex.scene_image && ex.scene_image.length !== imgSize) throw new Error(`example scene image has ${ex.scene_image.length} bytes, the policy expects ${W}×${H}×3`);
    // Seen only while holding: the grip force as measured (raw proprio), unknown without proprio.
    const free = dims.grip_force !== undefined && (ex.mask[3] === 1 || !(ex.proprio[dims.grip_force] > config.holding_force));
    const missing = mask[0] === 1 || !ex.scene_image || free;
    out.sceneMissing[b] = missing ? 1 : 0;
    const scene = out.scene.subarray(b * imgSize, (b + 1) * imgSize);
    const reach = augment?.config.scene_shift ?? 0;
    const sdx = augment ? Math.floor(augment.rand() * (2 * reach + 1)) - reach : 0;
    const sdy = augment ? Math.floor(augment.rand() * (2 * reach + 1)) - reach : 0;
    const { mean: sm, std: ss } = norm.scene ?? norm.image;
    for (let y = 0; y < H; y++) {
      const sy = Math.min(H - 1, Math.max(0, y + sdy));
      for (let x = 0; x < W; x++) {
        const src = (sy * W + Math.min(W - 1, Math.max(0, x + sdx))) * 3;
        const dst = (y * W + x) * 3;
        for (let c = 0; c < 3; c++) scene[dst + c] = missing ? 0 : ((ex.scene_image![src + c] / 255) * gain + bias - sm[c]) / ss[c];
      }
    }
  }

  const tac = out.tactile.subarray(b * dims.tactile, (b + 1) * dims.tactile);
  const overload = augment ? overloadGain(ex, augment) : 1;
  const forces = augment && augment.config.tactile_shift > 0 && dims.pads ? shiftTaxels(ex.tactile, dims.pads, augment.config.tactile_shift, augment.rand) : ex.tactile;
  for (let i = 0; i < dims.tactile; i++) {
    const f = forces[i] * overload;
    const v = (Math.sign(f) * Math.log1p(Math.abs(f))) / norm.tactile.std[0];
    tac[i] = mask[1] ? 0 : v + (augment ? gaussian(augment.rand) * augment.config.tactile_noise : 0);
  }

  const C = dims.smellChannels;
  const K = config.smell_history;
  const sm = out.smell.subarray(b * dims.smell, (b + 1) * dims.smell);
  sm.fill(0);
  const base = ex.smell_baseline;
  if (!mask[2] && C > 0 && base) {
    // ln(R0 / R): 0 in clean air, rising with odour (a MOX resistance falls), on every sensor alike.
    const relative = (row: number, c: number) => {
      const v = Math.log(base[c] / ex.smell[row * C + c]);
      return Number.isFinite(v) ? v / norm.smell.std[c] : 0;
    };
    const rows = ex.smell.length / C;
    let first = -1;
    let last = -1;
    for (let r = 0; r < Math.min(rows, K); r++) {
      const src = rows - Math.min(rows, K) + r;
      if (!ex.smell_valid[src]) continue;
      if (first < 0) first = src;
      last = src;
      for (let c = 0; c < C; c++) sm[(K - Math.min(rows, K) + r) * C + c] = relative(src, c);
    }
    if (first >= 0) for (let c = 0; c < C; c++) sm[K * C + c] = relative(last, c) - relative(first, c);
    if (augment) for (let i = 0; i < dims.smell; i++) sm[i] += gaussian(augment.rand) * augment.config.smell_noise;
  }

  const pr = out.proprio.subarray(b * dims.proprio, (b + 1) * dims.proprio);
  const P = dims.proprio - dims.history;
  const keep = dims.proprio_keep;
  for (let i = 0; i < P; i++) pr[i] = mask[3] || (keep && !keep.includes(i)) ? 0 : (ex.proprio[i] - norm.proprio.mean[i]) / norm.proprio.std[i];
  // Displacements are scaled by each joint's spread over the dataset (no mean: zero is "did not move").
  const J = dims.history / Math.max(1, config.proprio_history.steps);
  for (let i = 0; i < dims.history; i++) pr[P + i] = mask[3] || !ex.history || (keep && !keep.includes(i % J)) ? 0 : ex.history[i] / norm.proprio.std[i % J];

  const chunk = config.chunk;
  const rowsAvail = ex.actions.length / ACTION_DIM;
  for (let k = 0; k < chunk; k++) {
    const src = Math.min(k, rowsAvail - 1);
    const valid = k < rowsAvail ? ex.action_valid[k] : 0;
    out.actionValid[b * chunk + k] = valid;
    for (let j = 0; j < ACTION_DIM; j++) {
      const moved = j === 0 ? view.dx : j === 1 ? view.dy : 0;
      out.actions[(b * chunk + k) * ACTION_DIM + j] = (ex.actions[src * ACTION_DIM + j] + moved - norm.action.mean[j]) / norm.action.std[j];
    }
  }
}

export function allocFeatureBatch(size: number, config: PolicyConfig, dims: FeatureDims): FeatureBatch {
  return {
    size,
    image: new Float32Array(size * config.image.width * config.image.height * 3),
    scene: new Float32Array(config.scene_camera ? size * config.image.width * config.image.height * 3 : 0),
    sceneMissing: new Float32Array(size),
    tactile: new Float32Array(size * dims.tactile),
    smell: new Float32Array(size * dims.smell),
    proprio: new Float32Array(size * dims.proprio),
    mask: new Float32Array(size * 4),
    actions: new Float32Array(size * config.chunk * ACTION_DIM),
    actionValid: new Float32Array(size * config.chunk),
  };
}

export function denormalizeAction(norm: Normalizer, normalized: ArrayLike<number>, offset = 0, out = new Float32Array(ACTION_DIM)): Float32Array {
  for (let j = 0; j < ACTION_DIM; j++) out[j] = normalized[offset + j] * norm.action.std[j] + norm.action.mean[j];
  return out;
}

export { ACTION_DIM };
