// A tiny recorded dataset for policy tests: real MCAP logs written through
// sensors/, from the synthetic stream mix (camera test cards, two tactile pads,
// an e-nose, proprio) with actions at the control rate. Actions and
// observations are smooth functions of time, so the mapping is learnable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogWriter, syntheticMix, testCard } from '../../sensors/index.ts';

/** `scene`: also a fixed scene camera (camera/scene) at the wrist camera's rate, showing the frames in reverse order. */
export async function makeTinyDataset(episodes = 2, seconds = 4, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-policy-')), scene = false): Promise<string> {
  const frames = [0, 1, 2, 3, 4, 5].map((p) => testCard(32, 32, p));
  for (let e = 0; e < episodes; e++) {
    const writer = await LogWriter.open(path.join(dir, `episode_${String(e).padStart(3, '0')}.mcap`), {
      meta: { task: 'synthetic', robot: 'synthetic', operator: 'test', seed: e, success: true, notes: '' },
      fsync: false,
    });
    for (const s of syntheticMix({ t0_ns: 1e9 * (1 + e * 100), action_hz: 10, camera_hz: 10, frames, scene_hz: scene ? 10 : 0 }, seconds)) {
      const r = writer.writeValid(s);
      if (!r.ok) throw r.error;
    }
    await writer.finalize({ success: true });
  }
  return dir;
}
