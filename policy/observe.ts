// A live synchronizer Frame → the same Example the dataset yields for
// training (sensors' frameToExample, with the checkpoint's layout), plus any
// modalities the caller forces off.
import { MASK_ORDER, frameToExample, type Example, type Frame } from '../sensors/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import type { Modality } from './config.ts';
import type { PolicyExample } from './features.ts';
import { historyFor, positionCount } from './history.ts';

export function exampleFromFrame(frame: Frame, meta: CheckpointMeta, forceMask: readonly Modality[] = []): Example {
  const ex = frameToExample(frame, meta.layout);
  for (const m of forceMask) ex.mask[MASK_ORDER.indexOf(m)] = 1;
  return ex;
}

/** The motion history of a controller at run time: one push per tick, reset per episode. */
export function liveHistory(meta: CheckpointMeta): { reset(): void; observe(ex: PolicyExample): PolicyExample } {
  const history = historyFor(meta.config, positionCount(meta.layout.proprio.names));
  const out = new Float32Array(history.width);
  return {
    reset: () => history.reset(),
    observe(ex) {
      if (history.width > 0) ex.history = history.push(ex.proprio, out);
      return ex;
    },
  };
}
