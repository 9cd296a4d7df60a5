// runtime/: running a policy against a robot — the simulator or a rosbridge
// robot — with evaluation, the control loop, safety filter and health monitor.
export { evaluatePolicy, EvalResult, type EvalOptions, type EpisodeOutcome } from './evaluate.ts';
export { writeEvalReport, evalReportHtml, pngDataUri } from './evalReport.ts';
export { SimFeed } from './simFeed.ts';
export { wilson } from './stats.ts';
export { writeDemoReport, stripPng, type DemoStage, type DemoReportInput } from './demoReport.ts';
