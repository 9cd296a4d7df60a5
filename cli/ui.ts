// `senseact ui --robot ws://HOST:PORT [--http 127.0.0.1:8090]`: serves the web
// app (web/dist) and hosts the recording session it drives, on loopback
// unless told otherwise; prints its URL.
import path from 'node:path';
import { z } from 'zod';
import { CliError } from './errors.ts';
import { intString, parseFlags } from './flags.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const UiFlags = z.object({
  robot: z.string().regex(/^wss?:\/\/[^\s/]+(:\d{1,5})?\/?$/, '--robot must be ws://HOST:PORT (a rosbridge server: a robot, or `senseact sim serve`)'),
  http: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, '--http must be HOST:PORT')
    .transform((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
    })
    .refine((a) => a.port <= 65535, '--http port must be ≤ 65535'),
  task: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '--task must be a task name (letters, digits, . _ -)').optional(),
  out: z.string().min(1),
  seed: intString('--seed', 0, 0xffffffff).default(0),
  config: z.string().optional(),
  operator: z.string().max(200).optional(),
});

/**
 * A teleop robot for a rosbridge URL: runtime/'s RosbridgeRobot (with its default robot config:
 * topics of ARCHITECTURE.md, reconnect with backoff, header stamps through its clock tracker)
 * behind teleop's adapter.
 */
export async function rosbridgeTeleopRobot(url: string, opts: { camera: boolean; sceneCamera?: boolean; serviceTimeoutS: number }) {
  const { parseConfig } = await import('../runtime/config.ts');
  const { RosbridgeRobot } = await import('../runtime/rosbridgeRobot.ts');
  const { RuntimeTeleopRobot } = await import('../teleop/index.ts');
  const config = parseConfig({});
  // The fixed scene camera only when asked for: most robots (and `sim serve` by default) have none, and a stream that never comes warns on every save.
  const wanted = (name: string) => (name.startsWith('camera') ? opts.camera && (name !== 'camera/scene' || !!opts.sceneCamera) : true);
  const streams = Object.fromEntries(Object.entries(config.streams).filter(([name]) => wanted(name)));
  return new RuntimeTeleopRobot(new RosbridgeRobot({ url, config: config.robot, streams }), opts.serviceTimeoutS);
}

/** The teleop config (file or defaults) with the --operator override; a bad file exits 2 naming the field. */
export async function teleopConfig(file: string | undefined, operator: string | undefined) {
  const { loadTeleopConfig, ConfigError } = await import('../teleop/index.ts');
  try {
    const config = loadTeleopConfig(file);
    if (operator) config.operator = operator;
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

export async function uiCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(UiFlags, { ...raw, seed: raw.seed ?? '0' });
  const { RecordingSession, UiServer } = await import('../teleop/index.ts');
  const config = await teleopConfig(flags.config, flags.operator);
  const robot = await rosbridgeTeleopRobot(flags.robot, { camera: true, serviceTimeoutS: config.service_timeout_s });
  await robot.start(3000);
  // The task names the episodes: --task, else what the robot reports (the simulator's task_status), else 'teleop'.
  const task = flags.task ?? (await robot.task()) ?? 'teleop';
  if (robot.connection().state !== 'connected') process.stderr.write(`ui: ${robot.connection().detail}\n`);
  const outDir = path.resolve(flags.out);
  const session = await RecordingSession.open({ robot, outDir, task, config, seed: flags.seed });
  session.on((e) => process.stderr.write(`ui: ${e.level === 'info' ? '' : e.level + ': '}${e.message}\n`), true);
  let server;
  try {
    server = await UiServer.start({ session, config, robotUrl: flags.robot, task, host: flags.http.host, port: flags.http.port, staticDir: path.join(ROOT, 'web/dist') });
  } catch (err) {
    await session.close();
    await robot.close();
    const e = err as NodeJS.ErrnoException;
    throw new CliError(e.code ? `cannot listen on ${flags.http.host}:${flags.http.port}: ${e.message}` : e.message, 1);
  }
  process.stderr.write(`ui: ${server.url} — robot ${flags.robot}, task ${task}, episodes → ${outDir}; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await session.close();
  await robot.close();
  process.stderr.write('ui: stopped\n');
}
