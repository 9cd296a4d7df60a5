// `senseact record --robot sim|ws://HOST:PORT --task T --out DIR`: teleoperate
// from the terminal and record episodes (teleop/). Keys, speeds and health
// thresholds come from --config (JSON or YAML, teleop/config.ts).
import path from 'node:path';
import { z } from 'zod';
import { TASK_NAMES, type TaskName } from '../sim/index.ts';
import { CliError } from './errors.ts';
import { intString, parseFlags, sceneNeedsCamera } from './flags.ts';

const RecordFlags = z
  .object({
    robot: z.string().regex(/^(sim|wss?:\/\/[^\s/]+(:\d{1,5})?\/?)$/, '--robot must be sim or ws://HOST:PORT'),
    task: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '--task must be a task name (letters, digits, . _ -)'),
    out: z.string().min(1, '--out must name a directory'),
    seed: intString('--seed', 0, 0xffffffff).default(0),
    config: z.string().optional(),
    camera: z.boolean().default(true),
    sceneCamera: z.boolean().default(false),
    operator: z.string().max(200).optional(),
  })
  .refine(...sceneNeedsCamera)
  .refine((f) => f.robot !== 'sim' || (TASK_NAMES as readonly string[]).includes(f.task), { message: `--task must be one of: ${TASK_NAMES.join(', ')} (with --robot sim)`, path: ['task'] });

export async function recordCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(RecordFlags, { ...raw, seed: raw.seed ?? '0' });
  if (!process.stdin.isTTY) throw new CliError('record needs an interactive terminal (stdin is not a TTY); to record from a browser use `senseact ui`', 2);
  const { RecordingSession, TerminalTeleop } = await import('../teleop/index.ts');
  const config = await (await import('./ui.ts')).teleopConfig(flags.config, flags.operator);
  const outDir = path.resolve(flags.out);

  let robot;
  if (flags.robot === 'sim') {
    // The simulator in-process, in real time (runtime's SimRobot over sim/'s LiveSim, the camera rendered by Dawn).
    const { SimRobot } = await import('../runtime/simRobot.ts');
    const { RuntimeTeleopRobot } = await import('../teleop/index.ts');
    robot = new RuntimeTeleopRobot(new SimRobot({ task: flags.task as TaskName, seed: flags.seed, camera: flags.camera, sceneCamera: flags.sceneCamera }), config.service_timeout_s);
  } else {
    const { rosbridgeTeleopRobot } = await import('./ui.ts');
    robot = await rosbridgeTeleopRobot(flags.robot, { camera: flags.camera, sceneCamera: flags.sceneCamera, serviceTimeoutS: config.service_timeout_s });
  }
  process.stderr.write(`record: ${flags.task} on ${robot.name} → ${outDir}\n`);
  try {
    await robot.start();
  } catch (err) {
    await robot.close().catch(() => {});
    const m = (err as Error).message;
    throw new CliError(flags.camera && flags.robot === 'sim' ? `the simulator did not start (${m}); the cameras need WebGPU: run \`senseact doctor\`, or pass --no-camera` : m, 1);
  }
  if (robot.connection().state !== 'connected') process.stderr.write(`record: ${robot.connection().detail} (episodes can start once connected)\n`);
  const session = await RecordingSession.open({ robot, outDir, task: flags.task, config, seed: flags.seed });
  const term = new TerminalTeleop(session, { input: process.stdin, output: process.stderr, config });
  try {
    await term.run();
  } finally {
    await robot.close();
  }
  const st = session.status();
  const ok = st.saved.filter((e) => e.success).length;
  process.stderr.write(
    `record: saved ${st.saved.length} episode(s) (${ok} success, ${st.saved.length - ok} failure), discarded ${st.discarded}; ${outDir} holds ${st.episodes_in_dataset} episode(s)\n`,
  );
}
