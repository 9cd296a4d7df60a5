// sim/: the three.js + Rapier home scene, robot, tasks, simulated sensors,
// scripted experts, the gym-like env and the rosbridge-protocol server.
// Everything here runs in Node; `browser.ts` is the subset a browser bundle
// may import (no `ws`, no Dawn).
export * from './browser.ts';
export { createNodeCamera } from './camera-node.ts';
export { recordEpisodes, episodeFileName, SIM_ROBOT, type RecordOptions } from './record.ts';
export { generateEpisodes, loadSource, sceneOf, StageReplay, SourceError, GENERATED_PREFIX, HOVER_NEAR, STAGE_NEAR, type GenerateOptions, type GenerateResult, type SourceDemo } from './generate.ts';
export { LiveSim } from './live.ts';
export { RosbridgeServer, type RosbridgeServerOptions, type Logger } from './rosbridge/server.ts';
export { TOPICS, SERVICES } from './rosbridge/messages.ts';
export { NoRelayout, renderShifted, type Relaid, type ShiftRequest, type ShiftedFrame } from './shifts.ts';
export { renderViews, landmarkNames, VIEW_SCALE_M, VIEW_TARGETS_PER_LANDMARK, type LabelledView, type ViewOptions } from './views.ts';
