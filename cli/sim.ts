// `senseact sim run` and `senseact sim serve`: parse and validate flags (zod),
// then call sim/. Human output and the progress bar go to stderr.
import path from 'node:path';
import { z } from 'zod';
import { TASK_NAMES } from '../sim/index.ts';
import { recordEpisodes } from '../sim/record.ts';
import { generateEpisodes, SourceError } from '../sim/generate.ts';
import { createNodeCamera } from '../sim/camera-node.ts';
import { CliError } from './errors.ts';
import { intString, parseFlags, sceneNeedsCamera } from './flags.ts';
import { progressBar } from './progress.ts';

const SimRunFlags = z.object({
  task: z.enum(TASK_NAMES, { message: `--task must be one of: ${TASK_NAMES.join(', ')}` }),
  expert: z.literal(true, { message: '--expert is required (teleoperated recording is `senseact record`)' }),
  episodes: intString('--episodes', 1, 100_000),
  seed: intString('--seed', 0, 0xffffffff),
  out: z.string().min(1),
  afterSuccess: intString('--after-success', 0, 1000).default(0),
  camera: z.boolean().default(true),
  sceneCamera: z.boolean().default(false),
}).refine(...sceneNeedsCamera);

/** The cameras the flags ask for (none with --no-camera); a missing WebGPU is one line that says what to do. */
async function openCameras(flags: { camera: boolean; sceneCamera: boolean }) {
  if (!flags.camera) return null;
  try {
    return await createNodeCamera({ scene: flags.sceneCamera });
  } catch (err) {
    throw new CliError(`the cameras need WebGPU (${(err as Error).message}); run \`senseact doctor\`, or pass --no-camera`, 1);
  }
}

export async function simRunCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(SimRunFlags, raw);
  const outDir = path.resolve(flags.out);
  const camera = await openCameras(flags);
  const bar = progressBar(`sim run ${flags.task}`);
  let ok = 0;
  const t0 = performance.now();
  try {
    await recordEpisodes({
      task: flags.task,
      driver: 'full',
      episodes: flags.episodes,
      firstSeed: flags.seed,
      outDir,
      camera,
      after: flags.afterSuccess,
      onEpisode(done, result) {
        if (result.success) ok++;
        bar.update(done, flags.episodes, `seed ${result.seed}: ${result.success ? 'success' : result.failure}`);
      },
    });
  } catch (err) {
    bar.stop();
    throw new CliError(`sim run: ${(err as Error).message}`, 1);
  }
  bar.stop();
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`sim run: ${ok}/${flags.episodes} episodes succeeded (${flags.task}, seeds ${flags.seed}…${flags.seed + flags.episodes - 1}); logs in ${outDir} (${s} s)\n`);
}

const SimGenerateFlags = z.object({
  from: z.string().min(1),
  episodes: intString('--episodes', 1, 10_000),
  seed: intString('--seed', 0, 0xffffffff),
  attempts: intString('--attempts', 1, 100_000).optional(),
  out: z.string().min(1),
  afterSuccess: intString('--after-success', 0, 1000).optional(),
  camera: z.boolean().default(true),
  sceneCamera: z.boolean().default(false),
}).refine(...sceneNeedsCamera);

export async function simGenerateCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(SimGenerateFlags, raw);
  const outDir = path.resolve(flags.out);
  const camera = await openCameras(flags);
  const bar = progressBar('sim generate');
  const t0 = performance.now();
  let result;
  try {
    result = await generateEpisodes({
      sourceDir: path.resolve(flags.from),
      episodes: flags.episodes,
      firstSeed: flags.seed,
      maxAttempts: flags.attempts,
      outDir,
      camera,
      after: flags.afterSuccess,
      onAttempt(attempts, kept, r) {
        bar.update(kept, flags.episodes, `try ${attempts}, seed ${r.seed}: ${r.success ? 'kept' : r.failure}`);
      },
    });
  } catch (err) {
    bar.stop();
    if (err instanceof SourceError) throw new CliError(`sim generate: ${err.message}`, 2);
    throw new CliError(`sim generate: ${(err as Error).message}`, 1);
  }
  bar.stop();
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const failed = Object.entries(result.failures).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stderr.write(
    `sim generate: kept ${result.kept.length} of ${result.attempts} tries (${result.task}, from ${result.sources.length} demonstrations${failed ? `; failed: ${failed}` : ''}); logs in ${outDir} (${s} s)\n`,
  );
  if (result.kept.length < flags.episodes) throw new CliError(`sim generate: kept ${result.kept.length} of the ${flags.episodes} asked for in ${result.attempts} tries; raise --attempts`, 1);
}

const SimServeFlags = z.object({
  task: z.enum(TASK_NAMES, { message: `--task must be one of: ${TASK_NAMES.join(', ')}` }),
  rosbridge: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, '--rosbridge must be HOST:PORT')
    .transform((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
    })
    .refine((a) => a.port <= 65535, '--rosbridge port must be ≤ 65535'),
  seed: intString('--seed', 0, 0xffffffff),
  camera: z.boolean().default(true),
  sceneCamera: z.boolean().default(false),
  ros: z.enum(['1', '2'], { message: '--ros must be 1 or 2' }).default('2'),
  faults: z.boolean().default(false),
}).refine(...sceneNeedsCamera);

export async function simServeCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(SimServeFlags, raw);
  const { SimEnv } = await import('../sim/index.ts');
  const { RosbridgeServer } = await import('../sim/rosbridge/server.ts');
  const { pino } = await import('pino');
  const logger = pino({ base: { component: 'sim-serve' } }, pino.destination(2));
  const camera = await openCameras(flags);
  const env = new SimEnv({ task: flags.task, camera });
  let server;
  try {
    server = await RosbridgeServer.start({ env, host: flags.rosbridge.host, port: flags.rosbridge.port, seed: flags.seed, rosVersion: Number(flags.ros) as 1 | 2, logger, faults: flags.faults });
  } catch (err) {
    env.close();
    throw new CliError(`cannot listen on ${flags.rosbridge.host}:${flags.rosbridge.port}: ${(err as Error).message}`, 1);
  }
  process.stderr.write(`sim serve: ${flags.task} (seed ${flags.seed}) on ${server.address} — rosbridge v2; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  env.close();
  process.stderr.write('sim serve: stopped\n');
}

/** `senseact bench sim [--json] [--quick]`. */
export async function benchSimCommand(opts: { json?: boolean; quick?: boolean }): Promise<void> {
  const { benchSim, formatSimBench } = await import('../bench/sim.ts');
  const bar = progressBar('bench sim');
  const result = await benchSim({
    ...(opts.quick ? { seeds: 1, repeats: 1, cameraSeconds: 2, noWarmup: true } : {}),
    camera: () => createNodeCamera(),
    onProgress: (done, total, what) => bar.update(done, total, what),
  }).finally(() => bar.stop());
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stderr.write(formatSimBench(result) + '\n');
}
