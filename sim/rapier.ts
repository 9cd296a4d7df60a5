// The physics engine: Rapier's deterministic build, so that one seed replays
// bit for bit on any machine. Loaded once per process.
import RAPIER from '@dimforge/rapier3d-deterministic-compat';

let ready: Promise<void> | null = null;

export async function loadRapier(): Promise<typeof RAPIER> {
  ready ??= RAPIER.init();
  await ready;
  return RAPIER;
}

export type Rapier = typeof RAPIER;
export { RAPIER };
