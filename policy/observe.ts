// A live synchronizer Frame → the same Example the dataset yields for
// training (sensors' frameToExample, with the checkpoint's layout), plus any
// modalities the caller forces off.
import { MASK_ORDER, frameToExample, type Example, type Frame } from '../sensors/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import type { Modality } from './config.ts';

export function exampleFromFrame(frame: Frame, meta: CheckpointMeta, forceMask: readonly Modality[] = []): Example {
  const ex = frameToExample(frame, meta.layout);
  for (const m of forceMask) ex.mask[MASK_ORDER.indexOf(m)] = 1;
  return ex;
}
