// policy/: the multimodal network, its configuration, features, training,
// inference, checkpoints and baselines. Config, model and training live in
// separate files (as LeRobot keeps them).
export { PolicyConfig, MODALITIES, type Modality, defaultConfig } from './config.ts';
export { RECIPES, RECIPE_NAMES, type RecipeName } from './recipes.ts';
export { MultimodalPolicy, chunkL1, hypothesesLoss, policyLoss, type PolicyInputs } from './network.ts';
export { featureDims, makeNormalizer, encodeExample, allocFeatureBatch, type Normalizer, type FeatureDims, type FeatureBatch } from './features.ts';
export { trainPolicy, splitExamples, type TrainOptions, type TrainResult, type TrainProgress } from './train.ts';
export { TrainRefusal } from './refusal.ts';
export { saveCheckpoint, loadCheckpoint, encodeSafetensors, decodeSafetensors, metaPath, CheckpointMeta } from './checkpoint.ts';
export { drawHypothesis, PolicyRunner, percentile, type RunnerOptions } from './runner.ts';
export { exampleFromFrame } from './observe.ts';
export { NearestRunner, ensembleStep, type Controller } from './controller.ts';
export { loadController, missingPolicyFile, policyFiles } from './load.ts';
export { EnsembleRunner, combineChunks, medianChunk } from './ensemble.ts';
export { fitNearest, queryNearest, type NearestTable } from './nearest.ts';
export { lossCurveSvg, type CurvePoint } from './lossCurve.ts';
export { learningRate } from './schedule.ts';
export { trainVisionPrior, saveVisionPrior, loadVisionPrior, PriorMeta, PRIOR_FORMAT, type PriorViews } from './prior.ts';
export { attachShifts, type RenderedView, type ShiftRender, type ShiftRenderer, type ShiftScene, type ShiftedView } from './shifts.ts';
