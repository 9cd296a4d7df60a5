// teleop/: operator input (terminal keys, browser keys and buttons, gamepad)
// mapped to an end-effector twist + gripper under a dead-man rule, and the
// recording session (start, save as success/failure, discard, re-record) that
// both `senseact record` and the web app (`senseact ui`) drive.
export * from './config.ts';
export { loadTeleopConfig } from './config-file.ts';
export * from './mixer.ts';
export * from './keys.ts';
export type { TeleopRobot, RawSample, Connection, ConnectionState, ResetResult } from './robot.ts';
export { RuntimeTeleopRobot, SIM_SERVICES, type RuntimeRobotLike } from './runtime-robot.ts';
export * from './session.ts';
export { formatStatus, shortName, truncateVisible } from './status.ts';
export { TerminalTeleop, keyHelp, type TerminalOptions } from './terminal.ts';
export * from './api.ts';
export { UiServer, type UiServerOptions } from './ui-server.ts';
