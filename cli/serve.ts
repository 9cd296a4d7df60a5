// `senseact serve --policy FILE|scripted:NAME --robot ws://HOST:PORT [--http HOST:PORT] [--config FILE]`
import { z } from 'zod';
import { ConfigError, loadConfig, parseConfig } from '../runtime/config.ts';
import { CliError } from './errors.ts';
import { endLog } from './endLog.ts';
import { parseFlags } from './flags.ts';

const ServeFlags = z.object({
  policy: z.string().min(1, '--policy is required'),
  robot: z.string().regex(/^(wss?:\/\/[^\s/]+(\/\S*)?|sim:\S+|replay:\S+)$/, '--robot must be ws://HOST:PORT (or sim:TASK, replay:FILE)'),
  http: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, '--http must be HOST:PORT')
    .transform((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
    })
    .refine((a) => a.port <= 65535, '--http port must be ≤ 65535'),
  config: z.string().optional(),
});

export async function serveCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(ServeFlags, raw);
  let config;
  try {
    config = flags.config ? loadConfig(flags.config) : parseConfig({}, '(defaults)');
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`--config: ${err.message}`, 2);
    throw err;
  }
  const { pino } = await import('pino');
  const dest = pino.destination({ dest: 1, sync: false });
  const logger = pino({ level: config.log_level, base: { component: 'serve' } }, dest);
  const { Daemon } = await import('../runtime/daemon.ts');
  let daemon;
  try {
    daemon = await Daemon.start({ policy: flags.policy, robot: flags.robot, config, configFile: flags.config ?? null, http: flags.http, logger });
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'serve failed to start');
    await endLog(dest);
    const msg = (err as Error).message;
    throw new CliError(/^--/.test(msg) ? msg : `serve: ${msg}`, 1);
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // A second signal while shutting down forces the exit.
  const force = () => {
    logger.error({}, 'second signal: exiting now');
    dest.flushSync();
    process.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  const watchdog = setTimeout(() => {
    logger.error({}, 'shutdown took longer than 10 s: exiting');
    dest.flushSync();
    process.exit(1);
  }, 10_000);
  watchdog.unref();
  await daemon.shutdown(signal);
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  await endLog(dest);
  process.exitCode = 0;
  // Nothing of ours is left running; anything a dependency left (Dawn, sockets) must not keep the daemon alive.
  setImmediate(() => process.exit(0));
}
