// runtime/: running a policy against a robot — the simulator or a rosbridge
// robot — with evaluation, the control loop, safety filter and health monitor.
export { evaluatePolicy, EvalResult, SIM_RATES, type EvalOptions, type EpisodeOutcome } from './evaluate.ts';
export { writeEvalReport, evalReportHtml, pngDataUri, stripPng, writeStrips, type StripImage } from './evalReport.ts';
export { SimFeed } from './simFeed.ts';
export { TraceWriter, traceTick, type TraceTick, type TraceEnd } from './trace.ts';
export { formatRate, milestoneLabel, pct, wilson } from './stats.ts';
export { writeDemoReport, type DemoStage, type DemoReportInput } from './demoReport.ts';
// Running a policy on a robot (#8): docs/runtime.md.
export { RuntimeConfig, parseConfig, loadConfig, ConfigError, type StreamEntry, type RobotConfig, type SafetyConfig, type HealthConfig } from './config.ts';
export { newCounters, stopAction, type Robot, type RobotEvents, type RobotCounters, type RawSample, type ConnectionState, type DiagnosticStatus } from './robot.ts';
export { RosbridgeRobot, backoffDelayS, type RosbridgeRobotOptions } from './rosbridgeRobot.ts';
export { SimRobot, type SimRobotOptions } from './simRobot.ts';
export { ReplayRobot, ScaledClock, type ReplayOptions, type OpenLoopReport } from './replayRobot.ts';
export { ClockTracker, DEFAULT_CLOCK_TRACKING } from './clockTracker.ts';
export { SafetyFilter, type SafetyContext, type Limit } from './safety.ts';
export { HealthMonitor, StopGate, toDiagnostics, type HealthReport, type ComponentHealth, type GateState } from './healthMonitor.ts';
export { ControlLoop, type LoopOptions, type LoopEvents, type LoopStats, type CommandEvent, type StopEvent } from './controlLoop.ts';
export { Registry, Counter, Gauge, Histogram } from './metrics.ts';
export { ScriptedController, parseScriptedSpec, isScriptedSpec } from './scripted.ts';
export { Runtime, createController, createRobot, resolveStreams, controllerStreams, type RuntimeLogger } from './runtime.ts';
export { Daemon, type DaemonOptions } from './daemon.ts';
export { faultDrill, drillSvg, type DrillResult, type DrillSample } from './drill.ts';
