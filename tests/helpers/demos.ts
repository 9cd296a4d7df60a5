// Expert demonstrations recorded with the wrist camera, for tests that train on
// or render from a simulator dataset.
import path from 'node:path';
import { createNodeCamera, recordEpisodes, type TaskName } from '../../sim/index.ts';

/** One expert episode of `task` (seed 0) with the wrist camera, in DIR/demos. */
export async function recordWithCamera(task: TaskName, dir: string): Promise<void> {
  const camera = await createNodeCamera();
  try {
    await recordEpisodes({ task, driver: 'full', episodes: 1, firstSeed: 0, outDir: path.join(dir, 'demos'), camera, fsync: false });
  } finally {
    camera.dispose();
  }
}
