// The browser-safe part of sim/: the env, tasks, sensors and the three.js
// scene and camera (give CameraRig.create a real canvas). Nothing here
// imports Node-only modules at load time.
export { SimEnv, STEP_NS, SIM_EPOCH_NS, type CameraSource, type SimEnvOptions } from './env.ts';
export { runEpisode, makeDriver, type Driver, type DriverKind, type EpisodeResult } from './episode.ts';
export { TASK_NAMES, type TaskName, type ExpertVariant, type Task } from './task.ts';
export type { SimAction } from './action.ts';
export { zeroAction } from './action.ts';
export { STREAMS } from './samples.ts';
export type { Sample, CameraData, TactileData, SmellData, ProprioData, ActionData } from './samples.ts';
export { PHYSICS_HZ, CONTROL_HZ } from './layout.ts';
export { Rng } from './rng.ts';
export { CameraRig, type CameraOptions } from './camera.ts';
export { buildScene, type SceneView } from './render/scene.ts';
