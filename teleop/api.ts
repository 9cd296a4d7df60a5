// The web app ⇄ `senseact ui` server API: one WebSocket at /api/session
// carrying JSON messages, each validated by these zod schemas on arrival (on
// both sides). The page sends operator input and episode commands; the server
// answers with the session's status (5 Hz), its events and command results.
// Plain HTTP too: GET /api/status, GET /api/config, POST /api/episode {action}.
// Browser-safe.
import { z } from 'zod';

const unit = z.number().min(-1).max(1);

export const AxisInputMsg = z.object({ x: unit, y: unit, z: unit, yaw: unit, gripper: unit }).strict();

export const INPUT_SOURCES = ['keyboard', 'buttons', 'gamepad'] as const;
export const EPISODE_ACTIONS = ['start', 'save_success', 'save_failure', 'discard', 'rerecord'] as const;

export const ClientMessage = z.discriminatedUnion('type', [
  /** Held operator input; it expires after the dead-man timeout unless sent again. */
  z.object({ type: z.literal('hold'), source: z.enum(INPUT_SOURCES), input: AxisInputMsg }).strict(),
  z.object({ type: z.literal('release'), source: z.enum(INPUT_SOURCES) }).strict(),
  z.object({ type: z.literal('gripper'), action: z.enum(['toggle', 'open', 'close']) }).strict(),
  z.object({ type: z.literal('episode'), id: z.number().int().min(0), action: z.enum(EPISODE_ACTIONS), notes: z.string().max(4000).optional() }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const EpisodeRequest = z.object({ action: z.enum(EPISODE_ACTIONS), notes: z.string().max(4000).optional() }).strict();

const Level = z.enum(['OK', 'WARN', 'ERROR', 'STALE']);
const Conn = z.object({ state: z.enum(['connecting', 'connected', 'disconnected']), detail: z.string(), since_ms: z.number() });

export const StatusMsg = z.object({
  state: z.enum(['idle', 'resetting', 'recording', 'saving', 'closed']),
  task: z.string(),
  robot: z.string(),
  out_dir: z.string(),
  episode: z.number(),
  seed: z.number(),
  scene_seed: z.number().nullable(),
  recording_s: z.number(),
  saved: z.array(z.object({ index: z.number(), file: z.string(), success: z.boolean(), messages: z.number(), streams: z.record(z.string(), z.number()), duration_s: z.number() })),
  discarded: z.number(),
  episodes_in_dataset: z.number(),
  connection: Conn,
  streams: z.array(
    z.object({ stream: z.string(), level: Level, message: z.string(), rate_hz: z.number().nullable(), expected_hz: z.number(), age_s: z.number().nullable(), recorded: z.number() }),
  ),
  warnings: z.array(z.string()),
  command: z.object({ linear: z.array(z.number()), angular: z.array(z.number()), gripper: z.number(), engaged: z.boolean(), sources: z.array(z.string()) }),
});
export type StatusMsg = z.infer<typeof StatusMsg>;

export const EventMsg = z.object({
  level: z.enum(['info', 'warn', 'error']),
  kind: z.string(),
  message: z.string(),
  t_ms: z.number(),
});

/** What the page needs to start: where the robot is, the mappings, the task. */
export const UiConfig = z.object({
  robot_url: z.string(),
  task: z.string(),
  keys: z.record(z.string(), z.array(z.string())),
  gamepad: z.record(z.string(), z.unknown()),
  deadman: z.object({ input_timeout_ms: z.number(), key_hold_ms: z.number(), stop_ticks: z.number() }),
  speeds: z.record(z.string(), z.number()),
  control_hz: z.number(),
});
export type UiConfig = z.infer<typeof UiConfig>;

export const ServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), config: UiConfig }),
  z.object({ type: z.literal('status'), status: StatusMsg }),
  z.object({ type: z.literal('event'), event: EventMsg }),
  z.object({ type: z.literal('result'), id: z.number(), ok: z.boolean(), message: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
