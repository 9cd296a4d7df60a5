// From a checkpoint file to the controller that runs it: the config names its
// kind (the network, or the nearest-neighbour table), and a comma-separated
// list of files is an ensemble of networks (policy/ensemble.ts). LeRobot's
// factory, in one function.
import fs from 'node:fs';
import { decodeSafetensors, loadCheckpoint } from './checkpoint.ts';
import { ACTION_DIM } from './features.ts';
import { nearestBlocks } from './nearest.ts';
import { NearestRunner, type Controller } from './controller.ts';
import { EnsembleRunner } from './ensemble.ts';
import { PolicyRunner, type RunnerOptions } from './runner.ts';

/** The checkpoint files a --policy value names: one, or an ensemble's members separated by commas. */
export function policyFiles(spec: string): string[] {
  return spec.split(',');
}

/** The first file a --policy value names that does not exist, or null. */
export function missingPolicyFile(spec: string): string | null {
  return policyFiles(spec).find((f) => !fs.existsSync(f)) ?? null;
}

/** `a.safetensors` runs one policy; `a.safetensors,b.safetensors,…` runs them as one ensemble. */
export async function loadController(file: string, options: RunnerOptions = {}): Promise<Controller> {
  const files = policyFiles(file);
  if (files.length > 1) return EnsembleRunner.load(files, options);
  const { meta } = loadCheckpoint(file);
  if (meta.config.kind === 'nearest') {
    const { tensors } = decodeSafetensors(fs.readFileSync(file), file);
    const features = tensors.features;
    const actions = tensors.actions;
    if (!features || !actions) throw new Error(`${file}: a nearest-neighbour checkpoint needs 'features' and 'actions' tensors`);
    const F = nearestBlocks(meta.dims).reduce((a, b) => a + b, 0);
    if (features.shape[1] !== F || actions.shape[1] !== meta.config.chunk * ACTION_DIM || features.shape[0] !== actions.shape[0]) {
      throw new Error(`${file}: table shapes [${features.shape}] / [${actions.shape}] do not match the config (features ${F}, chunk ${meta.config.chunk})`);
    }
    return new NearestRunner(meta, { features: features.data, actions: actions.data, blocks: nearestBlocks(meta.dims) }, options.mask);
  }
  return PolicyRunner.load(file, options);
}
