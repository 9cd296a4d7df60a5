// Named policy configurations: what a user would otherwise paste as a JSON
// --config. Each is a partial config (the defaults fill the rest), validated
// like any config file. Measured in docs/results.md.
import type { z } from 'zod';
import type { PolicyConfig } from './config.ts';

type PartialConfig = z.input<typeof PolicyConfig>;

export const RECIPES = {
  /**
   * Few-shot from three demonstrations, measured on find-smell (the demo's task): waypoint labels
   * tracked by a P controller, a delta gripper, view shifts of the free approach, and of proprio
   * only the tool's height and the gripper's state (docs/policy.md). gentle-grasp does better with
   * camera and touch alone (docs/results.md). It needs the camera's intrinsics (view shifts) and
   * the simulator's proprio names; train refuses it with the reason otherwise.
   */
  'few-shot': {
    action: { kind: 'waypoint', gripper: 'delta' },
    modalities: ['camera', 'tactile', 'smell', 'proprio'],
    proprio_keep: ['position.lift', 'gripper_opening', 'gripper_force'],
    augment: { shift: 0, view_shift: 10 },
    train: { steps: 2000 },
  },
} as const satisfies Record<string, PartialConfig>;

export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];
