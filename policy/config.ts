// The policy's configuration: sizes, modalities, chunking, augmentation and
// training settings are data (validated by zod), not code. A checkpoint
// carries its config, so a model is always rebuilt exactly as trained.
import { z } from 'zod';

export const MODALITIES = ['camera', 'tactile', 'smell', 'proprio'] as const;
export const Modality = z.enum(MODALITIES);
export type Modality = z.infer<typeof Modality>;

const DropoutRate = z.number().min(0).max(0.9);

export const AugmentConfig = z.object({
  /** Random image shift in pixels (pad + crop), as in DrQ / Diffusion Policy. */
  shift: z.number().int().min(0).max(16).default(3),
  /**
   * Random shift of the scene camera's image, in pixels. The label stays: moving the whole
   * fixed view moves the hand and the things on the counter together, so what is where
   * relative to the hand, which is what the action depends on, is unchanged. Three demos put
   * the things in three places; shifts keep the network from reading the action off where
   * they stand in the image instead of where they stand from the hand.
   */
  scene_shift: z.number().int().min(0).max(16).default(4),
  /** Brightness/contrast jitter amplitude. */
  color_jitter: z.number().min(0).max(1).default(0.1),
  /**
   * Waypoint actions only: shift the image by up to this many pixels (at the policy's image size)
   * while the hand holds nothing, and move the waypoint labels with it, as if the tool stood that
   * far aside (policy/features.ts viewShift). 0 = off.
   */
  view_shift: z.number().int().min(0).max(64).default(0),
  /**
   * Also shift the carry (after the grasp, heading for a place aside from where the object was
   * taken): the scene moves, the hand and what it holds (the pixels that stay still over the carry) do not.
   */
  view_shift_carry: z.boolean().default(false),
  /**
   * Waypoint actions, simulator datasets: each frame of the carry (or the free approach, or both)
   * rendered again `views` times with the robot moved up to `reach` m aside in x and y of the hand
   * (sim/shifts.ts), the labels moved to match (policy/shifts.ts); in training one of them
   * replaces the recorded image with probability `share`. null = off.
   */
  rendered_shift: z
    .object({
      frames: z.enum(['carry', 'free', 'both']).default('carry'),
      views: z.number().int().min(1).max(64).default(8),
      reach: z.number().positive().max(0.5).default(0.08),
      share: z.number().min(0).max(1).default(0.5),
      /** Free-approach frames this close (m) above the grasp point are not shifted: the fingers stand around the object there. */
      clearance: z.number().min(0).max(0.5).default(0.03),
      /**
       * Each view also lays the scene out again where its layout could have (sim Task.relayout):
       * views of the free approach move the object to take (pick-place's mug, the plate with it;
       * the labels follow the mug), views of the carry move its goal (pick-place's plate,
       * find-smell's bin; the labels follow it), each only where the camera then sees it. Three
       * demonstrations show three layouts, and pick-place's seeds 0–2 all put the mug on the
       * right and the plate on the left.
       */
      relayout: z.boolean().default(false),
    })
    .nullable()
    .default(null),
  /** The camera's height (m) above the tool point at the grasp: with the tool's height it gives each frame's metres per pixel. */
  view_depth: z.number().positive().max(5).default(0.09),
  /**
   * Waypoint actions with a delta gripper: frames where the demonstration holds its grip (the
   * gripper label neither closes nor opens over the chunk) while the pads together feel at least
   * `contact` N of normal force are shown, in `share` of draws, with every taxel force multiplied by
   * one gain drawn in [1, `max_gain`]. A grip firmer than any demonstration's still says "stop closing": the
   * direction three demonstrations cannot show, since each stops at the force it meant to reach
   * and the network never sees more. Measured on gentle-grasp, it halved the successes (docs/results.md,
   * "An ensemble of six"). null = off.
   */
  touch_overload: z
    .object({
      max_gain: z.number().min(1).max(20).default(4),
      share: z.number().min(0).max(1).default(0.5),
      contact: z.number().positive().max(100).default(0.5),
    })
    .nullable()
    .default(null),
  /**
   * Move each tactile pad's contact by up to this many taxels in rows and columns (each pad on its
   * own; a press moved past the edge is felt at the edge): where an object presses on the pad does
   * not say how firmly it is held (policy/features.ts shiftTaxels). Measured on gentle-grasp, no gain:
   * the policy then grasped higher and weakly (docs/results.md, "An ensemble of six"). 0 = off.
   */
  tactile_shift: z.number().int().min(0).max(8).default(0),
  /** Gaussian noise on normalized touch and smell features. */
  tactile_noise: z.number().min(0).max(1).default(0.05),
  smell_noise: z.number().min(0).max(1).default(0.05),
  /**
   * Probability of masking each modality per example (masked multimodal learning): one rate for
   * all, or one per modality (the unnamed keep 0.15), for a stream whose run-time readings leave
   * the demonstrations' (pick-place's touch: measured, it did not close that gap; docs/results.md,
   * "Touch in pick-place").
   */
  modality_dropout: z.union([DropoutRate, z.object({ camera: DropoutRate.default(0.15), tactile: DropoutRate.default(0.15), smell: DropoutRate.default(0.15), proprio: DropoutRate.default(0.15) }).strict()]).default(0.15),
});

export const TrainConfig = z.object({
  steps: z.number().int().min(1).max(1_000_000).default(800),
  batch_size: z.number().int().min(1).max(4096).default(32),
  lr: z.number().positive().max(1).default(3e-3),
  warmup_steps: z.number().int().min(0).default(50),
  weight_decay: z.number().min(0).max(1).default(1e-4),
  /** Global gradient-norm clip (0 = off). Off by default: on WebGPU it costs ~160 extra dispatches per step (a square and a sum per parameter), ~20% of a step on a CPU driver. */
  clip_norm: z.number().min(0).default(0),
  val_fraction: z.number().min(0).max(0.5).default(0.1),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  /** Evaluate validation loss every this many steps. */
  val_every: z.number().int().min(1).default(200),
});

/** What the head's action rows mean (policy/waypoints.ts). */
export const ActionConfig = z.object({
  /** 'twist': the commanded twist per tick; 'waypoint': the next keyframe relative to the tool, tracked by a P controller. */
  kind: z.enum(['twist', 'waypoint']).default('twist'),
  /** Waypoint tracking: proportional gain (1/s), speed cap (m/s), yaw gain (1/s) and yaw-rate cap (rad/s). */
  gain: z.number().positive().max(100).default(3),
  vmax: z.number().positive().max(5).default(0.22),
  yaw_gain: z.number().positive().max(100).default(3),
  yaw_max: z.number().positive().max(10).default(1.5),
  /** Keyframes: the tool slower than this (m/s) stands still; a gripper command change larger than this is a keyframe. */
  stop_speed: z.number().positive().max(1).default(0.01),
  gripper_jump: z.number().positive().max(1).default(0.05),
  /** Path corners further than this (m) from the straight line between keyframes become keyframes. */
  corner: z.number().positive().max(1).default(0.01),
  /**
   * Waypoint actions: the gripper column as the command ('absolute'), or as its change from the
   * previous tick's command ('delta'), which the runner adds to the command it gave last. A delta
   * says "keep closing" or "stop" whatever the object's size; an absolute label must know the size.
   */
  gripper: z.enum(['absolute', 'delta']).default('absolute'),
  /**
   * Waypoint labels past a demonstration's last tick: the gripper held where it ended ('hold'), or
   * going on as it went over the last tick ('continue'). A simulated demonstration ends the tick the
   * task succeeds, and pick-place's and find-smell's succeed mid-release. 'hold' also leaves those
   * rows out of the loss (as ACT pads its chunks), and the delta gripper steps by the chunk's last
   * row, so no tick of a release within a chunk of the end teaches the release; 'continue' labels
   * them (the hand stays, the gripper goes on) and counts them.
   */
  gripper_tail: z.enum(['hold', 'continue']).default('hold'),
});

export const PolicyConfig = z.object({
  /** 'multimodal': the trained network; 'nearest': the VINN-style nearest-neighbour baseline. */
  kind: z.enum(['multimodal', 'nearest']).default('multimodal'),
  /** Nearest-neighbour baseline: neighbours averaged per tick. */
  neighbours: z.number().int().min(1).max(64).default(5),
  /** Modalities the network has encoders for. */
  modalities: z.array(Modality).min(1).default([...MODALITIES]),
  /**
   * A fixed camera stream the network also reads, as a second image token of the camera
   * modality (masking "camera" masks both), e.g. the simulator's camera/scene; null = wrist only.
   * Random shifts and colour jitter apply to it as to the wrist image; view shifts do not (it
   * does not move with the hand).
   */
  scene_camera: z.string().min(1).max(256).nullable().default(null),
  /**
   * A vision prior (`senseact pretrain`, policy/prior.ts) the camera encoder starts from: its
   * weights and its pixel statistics; `freeze` keeps them as they are (the demonstrations then
   * train only what reads the encoder's token). null = the encoder starts at random.
   */
  camera_prior: z
    .object({ path: z.string().min(1).max(4096), freeze: z.boolean().default(true) })
    .nullable()
    .default(null),
  /**
   * When the network sees the scene camera: 'always', or only while the hand holds something
   * ('holding': the measured grip force above `holding_force`; otherwise the view reads as
   * missing, in training and at run time alike). A whole-counter view tells three demos apart
   * at a glance, so a network that sees it while choosing learns which demo it is in instead of
   * sniffing; once it holds the jar, what is left is where the bin stands from the hand.
   * (Measured on find-smell, it does not help: docs/results.md, "A second, fixed camera".)
   */
  scene_when: z.enum(['always', 'holding']).default('always'),
  holding_force: z.number().positive().max(1000).default(2),
  /** Camera input size after resizing. */
  image: z.object({ width: z.number().int().min(8).max(512), height: z.number().int().min(8).max(512) }).default({ width: 32, height: 32 }),
  /** Control rate of frames and actions, Hz (the simulator controls at 20 Hz). */
  rate_hz: z.number().positive().max(1000).default(20),
  /** H: the head predicts H actions per tick (the action at t and H−1 after it). */
  chunk: z.number().int().min(1).max(200).default(10),
  smell_history: z.number().int().min(1).max(64).default(8),
  /** Motion history (policy/history.ts): joint displacements `steps` entries back, `every` ticks apart (0 steps = off). */
  proprio_history: z
    .object({ steps: z.number().int().min(0).max(32).default(10), every: z.number().int().min(1).max(200).default(10) })
    .default({ steps: 10, every: 10 }),
  /**
   * Proprio entries the network reads, by name (e.g. "position.lift", "gripper_opening"); empty = all.
   * The others read 0: where the base stands and the arm reaches lets three demos be memorized
   * by position, while the tool's height and the gripper's state are the same cue in every scene.
   */
  proprio_keep: z.array(z.string().min(1)).max(256).default([]),
  /** Fusion transformer. */
  width: z.number().int().min(8).max(1024).default(64),
  layers: z.number().int().min(0).max(12).default(1),
  heads: z.number().int().min(1).max(16).default(4),
  ffn: z.number().int().min(8).max(4096).default(128),
  /** ACT's temporal-ensembling weight exp(−k·i), i = age of the chunk in ticks. */
  ensemble_k: z.number().min(0).max(10).default(0.01),
  /**
   * Action hypotheses: the head predicts this many chunks and a score for each; training fits
   * the best one to each label (relaxed winner-take-all, multiple-choice learning) and the scores
   * to which one won; at run time one is drawn by its score. 1 = a single L1-fit chunk. Where a
   * demonstration moves on at an instant nothing in the frame marks (the end of a sniff), a single
   * L1 fit predicts the median there, "stay", at every tick; a drawn hypothesis moves on at the rate
   * the demonstrations did.
   */
  hypotheses: z.number().int().min(1).max(8).default(1),
  action: ActionConfig.default(ActionConfig.parse({})),
  augment: AugmentConfig.default(AugmentConfig.parse({})),
  train: TrainConfig.default(TrainConfig.parse({})),
});
export type PolicyConfig = z.infer<typeof PolicyConfig>;

export function defaultConfig(overrides: unknown = {}): PolicyConfig {
  return PolicyConfig.parse(overrides);
}
