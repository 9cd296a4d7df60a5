// The physics engine: Rapier's deterministic build, so that one seed replays
// bit for bit on any machine. The ordinary (faster, not cross-platform
// deterministic) build can be chosen for comparison; `bench sim` measures
// the two side by side. Each build is loaded once per process.
import RAPIER from '@dimforge/rapier3d-deterministic-compat';

export type Rapier = typeof RAPIER;
export type RapierBuild = 'deterministic' | 'fast';

const loaded = new Map<RapierBuild, Promise<Rapier>>();

export function loadRapier(build: RapierBuild = 'deterministic'): Promise<Rapier> {
  let p = loaded.get(build);
  if (!p) {
    p =
      build === 'deterministic'
        ? RAPIER.init().then(() => RAPIER)
        : // A dev dependency, only for benchmarks; the same API as the deterministic build.
          import('@dimforge/rapier3d-compat').then(async (m) => {
            await m.default.init();
            return m.default as unknown as Rapier;
          });
    loaded.set(build, p);
  }
  return p;
}

export { RAPIER };
