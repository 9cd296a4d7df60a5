// `senseact train --recipe`: a named config that a --config file and the
// flags refine field by field; an unknown name is refused with the known ones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { senseact, meaningfulLines } from '../helpers/cli.ts';
import { recordWithCamera } from '../helpers/demos.ts';
import { recordEpisodes } from '../../sim/index.ts';
import { RECIPES, loadCheckpoint } from '../../policy/index.ts';

/** A --config file for a tiny network, so one training step costs little. */
function smallConfig(dir: string, steps: number): string {
  const file = path.join(dir, 'small.json');
  fs.writeFileSync(file, JSON.stringify({ width: 16, ffn: 32, heads: 2, train: { steps, val_fraction: 0 } }));
  return file;
}

describe('senseact train --recipe', () => {
  it('trains with the recipe, a config file over it keeping the fields it does not name, and the flags over both', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-recipe-'));
    await recordWithCamera('find-smell', dir);
    const config = smallConfig(dir, 3);
    const out = path.join(dir, 'p.safetensors');
    const run = senseact(['train', '--data', path.join(dir, 'demos'), '--out', out, '--recipe', 'few-shot', '--config', config, '--steps', '2', '--backend', 'cpu'], {}, 120_000);
    expect(meaningfulLines(run.stderr).filter((l) => l.startsWith('senseact:'))).toEqual([]);
    expect(run.status).toBe(0);
    const { meta } = loadCheckpoint(out);
    const recipe = RECIPES['few-shot'];
    expect(meta.config.action.kind).toBe(recipe.action.kind);
    expect(meta.config.action.gripper).toBe(recipe.action.gripper);
    expect(meta.config.proprio_keep).toEqual(recipe.proprio_keep);
    expect(meta.config.augment.view_shift).toBe(recipe.augment.view_shift);
    expect(meta.config.hypotheses).toBe(recipe.hypotheses);
    // The recipe's fields as written, and the default clearance it does not name.
    expect(meta.config.augment.rendered_shift).toEqual({ clearance: 0.03, relayout: false, ...recipe.augment.rendered_shift });
    // The CLI passed the simulator's renderer: the carry frames were rendered again.
    expect(run.stderr).toMatch(/rendered [1-9]\d* shifted views \(carry\)/);
    expect(meta.config.width).toBe(16); // the file
    expect(meta.config.train.val_fraction).toBe(0); // the file, inside train
    expect(meta.config.train.steps).toBe(2); // the flag over the file and the recipe
    expect(meta.training!.steps).toBe(2);
  }, 180_000);

  it('refuses an unknown recipe, naming the known ones', () => {
    const run = senseact(['train', '--data', os.tmpdir(), '--out', path.join(os.tmpdir(), 'x.safetensors'), '--recipe', 'magic']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--recipe must be one of: few-shot, gentle-grasp/);
  });

  it('gentle-grasp renders its free approach again, and refuses demonstrations recorded without a camera, saying why', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-recipe-'));
    await recordEpisodes({ task: 'gentle-grasp', driver: 'full', episodes: 1, firstSeed: 0, outDir: path.join(dir, 'blind'), camera: null, fsync: false });
    const refused = senseact(['train', '--data', path.join(dir, 'blind'), '--out', path.join(dir, 'x.safetensors'), '--recipe', 'gentle-grasp', '--steps', '1', '--backend', 'cpu'], {}, 120_000);
    // A refusal, not a crash: one line, exit 2, no stack.
    expect(refused.status).toBe(2);
    expect(meaningfulLines(refused.stderr).filter((l) => l.startsWith('senseact:'))).toEqual([expect.stringMatching(/^senseact: \S+blind: augment\.view_shift needs the camera's intrinsics/)]);
    expect(refused.stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
    // A config whose fields contradict each other is refused the same way, before any data is read.
    const conflict = path.join(dir, 'scene.json');
    fs.writeFileSync(conflict, JSON.stringify({ scene_camera: 'camera/scene' }));
    const contradicts = senseact(['train', '--data', path.join(dir, 'blind'), '--out', path.join(dir, 'x.safetensors'), '--recipe', 'gentle-grasp', '--config', conflict, '--backend', 'cpu'], {}, 120_000);
    expect(contradicts.status).toBe(2);
    expect(meaningfulLines(contradicts.stderr).filter((l) => l.startsWith('senseact:'))).toEqual([expect.stringMatching(/^senseact: augment\.rendered_shift re-renders the wrist camera only.*use one or the other$/)]);

    await recordWithCamera('gentle-grasp', dir);
    const config = smallConfig(dir, 1);
    const out = path.join(dir, 'p.safetensors');
    const run = senseact(['train', '--data', path.join(dir, 'demos'), '--out', out, '--recipe', 'gentle-grasp', '--config', config, '--backend', 'cpu'], {}, 120_000);
    expect(meaningfulLines(run.stderr).filter((l) => l.startsWith('senseact:'))).toEqual([]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/rendered [1-9]\d* shifted views \(free\)/);
    const { meta } = loadCheckpoint(out);
    expect(meta.config.scene_camera).toBeNull();
    expect(meta.config.modalities).toEqual(['camera', 'tactile']);
    expect(meta.config.augment.rendered_shift).toEqual({ clearance: 0.03, relayout: false, ...RECIPES['gentle-grasp'].augment.rendered_shift });

    // A relayout of a task with nothing to lay out again around (no carry goal) is refused in one line.
    const relayout = path.join(dir, 'relayout.json');
    fs.writeFileSync(relayout, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), augment: { ...RECIPES['gentle-grasp'].augment, rendered_shift: { ...RECIPES['gentle-grasp'].augment.rendered_shift, relayout: true } } }));
    const noGoal = senseact(['train', '--data', path.join(dir, 'demos'), '--out', path.join(dir, 'r.safetensors'), '--recipe', 'gentle-grasp', '--config', relayout, '--backend', 'cpu'], {}, 120_000);
    expect(noGoal.status).toBe(2);
    expect(meaningfulLines(noGoal.stderr).filter((l) => l.startsWith('senseact:'))).toEqual([expect.stringMatching(/^senseact: augment\.rendered_shift\.relayout: task gentle-grasp has no carry goal/)]);
  }, 180_000);
});
