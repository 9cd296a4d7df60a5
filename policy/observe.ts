// A live synchronizer Frame → the same Example the dataset yields for
// training, so the runner sees exactly what the trainer saw.
import { MASK_ORDER, decodeImage, isTactileTaxels, nsToS, proprioVector, resizeRgb, type CameraData, type Example, type Frame, type ProprioData, type SmellData, type TactileData } from '../sensors/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import type { Modality } from './config.ts';

export function exampleFromFrame(frame: Frame, meta: CheckpointMeta, forceMask: readonly Modality[] = []): Example {
  const { config, dims, layout } = meta;
  const { width, height } = config.image;
  const K = config.smell_history;
  const C = dims.smellChannels;
  const ex: Example = {
    episode: 0,
    t_ns: frame.t_ns,
    image: new Uint8Array(width * height * 3),
    tactile: new Float32Array(dims.tactile),
    smell: new Float32Array(K * C),
    smell_valid: new Uint8Array(K),
    smell_age_s: new Float32Array(K),
    proprio: new Float32Array(dims.proprio),
    actions: new Float32Array(config.chunk * 7),
    action_valid: new Uint8Array(config.chunk),
    mask: new Uint8Array(4).fill(1),
  };
  const cam = layout.camera ? frame.slots[layout.camera] : undefined;
  if (cam?.sample && !cam.masked) {
    ex.image.set(resizeRgb(decodeImage(cam.sample.data as CameraData), width, height));
    ex.mask[0] = 0;
  }
  let off = 0;
  let tactileOk = layout.tactile.length > 0;
  const per = layout.tactile.length ? dims.tactile / layout.tactile.length : 0;
  for (const name of layout.tactile) {
    const slot = frame.slots[name];
    const t = slot?.sample?.data as TactileData | undefined;
    if (slot && !slot.masked && t && isTactileTaxels(t) && t.forces.length === per) ex.tactile.set(t.forces, off);
    else tactileOk = false;
    off += per;
  }
  ex.mask[1] = tactileOk ? 0 : 1;
  const sm = layout.smell ? frame.slots[layout.smell] : undefined;
  if (sm?.sample && !sm.masked) {
    const hist = sm.history.slice(-K);
    for (let j = 0; j < hist.length; j++) {
      const row = K - hist.length + j;
      const d = hist[j].data as SmellData;
      if (d.values.length !== C) continue;
      ex.smell.set(d.values, row * C);
      ex.smell_valid[row] = 1;
      ex.smell_age_s[row] = nsToS(frame.t_ns - hist[j].t_capture_ns);
    }
    ex.mask[2] = 0;
  }
  const pr = layout.proprio ? frame.slots[layout.proprio] : undefined;
  if (pr?.sample && !pr.masked) {
    const p = pr.sample.data as ProprioData;
    if (p.names.length * 3 + 2 === dims.proprio) {
      proprioVector(p, ex.proprio);
      ex.mask[3] = 0;
    }
  }
  for (const m of forceMask) ex.mask[MASK_ORDER.indexOf(m)] = 1;
  return ex;
}
