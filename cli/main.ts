// The `senseact` command line: thin wrappers that parse flags and call the
// library folders. Output contract: `--json` prints one JSON object on stdout;
// human output and progress go to stderr; bad input exits non-zero with one line.
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';
import { pending } from './pending.ts';
import { doctorReport, formatDoctor } from './doctor.ts';
import { runDemo } from './demo.ts';

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function buildProgram(): Command {
  const program = new Command('senseact')
    .description('Teach a home robot a task from a few demonstrations, with sight, touch and smell.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true);
  // Every subcommand inherits exitOverride and the quiet error output.
  const sub = (parent: Command, name: string) =>
    parent.command(name).exitOverride().configureOutput({ outputError: () => {} });

  sub(program, 'doctor')
    .description('environment, WebGPU adapter, chosen backend')
    .option('--json', 'print one JSON object on stdout')
    .option('--require-webgpu', 'exit 1 when no WebGPU adapter is available')
    .action(async (opts: { json?: boolean; requireWebgpu?: boolean }) => {
      const report = await doctorReport();
      if (opts.json) printJson(report);
      else process.stderr.write(formatDoctor(report) + '\n');
      if (opts.requireWebgpu && report.backend !== 'webgpu') {
        throw new CliError(`no WebGPU adapter: ${report.reason}; ${report.fix ?? ''}`.trim(), 1);
      }
    });

  sub(program, 'demo')
    .description('record, train, evaluate and deploy on the embedded simulator')
    .option('--quick', 'reduced version for CI')
    .option('--fresh', 'ignore what earlier runs left in demo-output/')
    .option('--out <dir>', 'output folder', 'demo-output')
    .action(async (opts: Record<string, unknown>) => runDemo(opts));

  const sim = sub(program, 'sim').description('the embedded simulator');
  sub(sim, 'run')
    .description('run episodes (scripted expert) and write one MCAP log per episode')
    .requiredOption('--task <task>', 'pick-place | open-door | find-smell | gentle-grasp')
    .option('--expert', 'drive with the scripted expert')
    .option('--episodes <n>', 'number of episodes', '1')
    .option('--seed <s>', 'first seed', '0')
    .requiredOption('--out <dir>', 'output directory')
    .option('--after-success <ticks>', 'go on recording this many ticks past a success (the hand lets go and moves off)', '0')
    .option('--no-camera', 'skip rendering the cameras (physics, touch, smell and proprio only)')
    .option('--scene-camera', 'also record the fixed camera over the counter (camera/scene)')
    .action(async (opts: Record<string, unknown>) => (await import('./sim.ts')).simRunCommand(opts));
  sub(sim, 'generate')
    .description('generate demonstrations from recorded ones (MimicGen-style: each stage replayed where its object now stands; only successes kept)')
    .requiredOption('--from <dir>', 'recorded demonstrations of one task (pick-place, open-door, gentle-grasp)')
    .option('--episodes <n>', 'successful episodes to keep', '30')
    .requiredOption('--seed <s>', 'first seed tried (keep clear of the evaluation seeds, 1000 and up)')
    .option('--attempts <n>', 'tries before giving up (default 3 × episodes)')
    .requiredOption('--out <dir>', 'output directory (may be --from: recorded and generated logs train together)')
    .option('--after-success <ticks>', 'go on recording this many ticks past a success (default: as long as each source was recorded past its own)')
    .option('--no-camera', 'skip rendering the cameras')
    .option('--scene-camera', 'also record the fixed camera over the counter (camera/scene)')
    .action(async (opts: Record<string, unknown>) => (await import('./sim.ts')).simGenerateCommand(opts));
  sub(sim, 'serve')
    .description('serve the simulator over the rosbridge v2 protocol')
    .requiredOption('--task <task>', 'task name')
    .option('--rosbridge <host:port>', 'listen address', '127.0.0.1:9090')
    .option('--seed <s>', 'seed', '0')
    .option('--no-camera', 'serve without the cameras')
    .option('--scene-camera', 'also publish the fixed camera over the counter (/scene_camera/color/image_raw/compressed)')
    .option('--ros <version>', 'ROS version of outgoing header stamps (1: secs/nsecs, 2: sec/nanosec)', '2')
    .option('--faults', 'test only: offer the /senseact/faults injection service (docs/runtime.md)')
    .action(async (opts: Record<string, unknown>) => (await import('./sim.ts')).simServeCommand(opts));

  sub(program, 'record')
    .description('record demonstrations by teleoperation')
    .requiredOption('--robot <robot>', 'sim | ws://HOST:PORT')
    .requiredOption('--task <task>', 'task name')
    .requiredOption('--out <dir>', 'dataset directory')
    .option('--seed <s>', 'seed of the first episode (episode i: seed + i; sim and robots with a reset service)', '0')
    .option('--config <file>', 'teleop config: speeds, key and gamepad maps, stream rates (JSON or YAML)')
    .option('--operator <name>', 'operator name for the episode metadata')
    .option('--no-camera', 'without the cameras (sim: no WebGPU needed; ws: do not subscribe to them)')
    .option('--scene-camera', 'also record the fixed camera over the counter (sim: render it; ws: subscribe to it)')
    .action(async (opts: Record<string, unknown>) => (await import('./record.ts')).recordCommand(opts));

  const dataset = sub(program, 'dataset').description('inspect and repair recorded datasets');
  sub(dataset, 'info')
    .description('per-episode streams, counts, rates, gaps')
    .argument('<dir>', 'dataset directory')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, opts: { json?: boolean }) => (await import('./dataset.ts')).datasetInfo(dir, opts));
  sub(dataset, 'repair')
    .description('recover a truncated or unfinalized MCAP log')
    .argument('<file>', 'log file')
    .option('--json', 'print one JSON object on stdout')
    .action(async (file: string, opts: { json?: boolean }) => (await import('./dataset.ts')).datasetRepair(file, opts));

  sub(program, 'train')
    .description('train the few-shot multimodal policy')
    .requiredOption('--data <dir>', 'dataset directory (episode logs)')
    .requiredOption('--out <file>', 'checkpoint (.safetensors); FILE.json and FILE.loss.svg go beside it')
    .option('--steps <n>', 'training steps (default from the policy config)')
    .option('--backend <b>', 'webgpu | cpu | auto', 'auto')
    .option('--seed <s>', 'seed (default 0)')
    .option('--lr <x>', 'peak learning rate')
    .option('--batch <n>', 'batch size')
    .option('--modalities <list>', 'comma-separated modalities the network sees (camera,tactile,smell,proprio)')
    .option('--kind <kind>', 'multimodal (the network) | nearest (VINN-style baseline)', 'multimodal')
    .option('--recipe <name>', 'a named policy config: few-shot (docs/policy.md); --config and flags override it')
    .option('--config <file>', 'a JSON policy config (sizes, modalities, chunk, history, augmentation, training); flags override it')
    .option('--members <k>', 'train an ensemble: K checkpoints FILE-m0…, seeds S…S+K−1, run together with --policy a,b,… (docs/policy.md)')
    .option('--jobs <j>', 'with --members: members trained at once, each in its own process (default: one per core)')
    .option('--fresh', 'ignore a saved training state and start over')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: Record<string, unknown>) => (await import('./train.ts')).trainCommand(opts));

  sub(program, 'pretrain')
    .description('learn a vision prior for the camera encoder from simulator views of random layouts (no demonstrations)')
    .requiredOption('--task <task>', 'pick-place | open-door | find-smell | gentle-grasp')
    .requiredOption('--out <file>', 'vision prior (.safetensors)')
    .option('--layouts <n>', 'random layouts to render', '120')
    .option('--per-layout <n>', 'hand poses rendered per layout', '40')
    .option('--steps <n>', 'training steps', '3000')
    .option('--batch <n>', 'batch size', '64')
    .option('--seed <s>', 'seed', '0')
    .option('--backend <b>', 'webgpu | cpu | auto', 'auto')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: Record<string, unknown>) => (await import('./pretrain.ts')).pretrainCommand(opts));

  sub(program, 'eval')
    .description('evaluate a policy in the simulator on held-out seeds, with a 95% Wilson interval')
    .requiredOption('--policy <file>', 'checkpoint (.safetensors), or an ensemble\'s checkpoints separated by commas')
    .requiredOption('--task <task>', 'pick-place | open-door | find-smell | gentle-grasp')
    .option('--episodes <n>', 'episodes', '50')
    .option('--seed <s>', 'first seed (training seeds are skipped)', '1000')
    .option('--mask <modalities>', 'comma-separated modalities to hide from the policy (ablation)')
    .option('--backend <b>', 'webgpu | cpu | auto', 'auto')
    .option('--report <file>', 'HTML report (default: beside the checkpoint)')
    .option('--strips <dir/prefix>', 'also write camera strips of a success and a failure as PNGs (PREFIX-success-seedN.png)')
    .option('--trace <file.jsonl>', 'also write every tick of every episode (tool, command, grip force, objects) and how each ended, as JSON lines')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: Record<string, unknown>) => (await import('./eval.ts')).evalCommand(opts));

  sub(program, 'serve')
    .description('run a policy on a robot as a monitored daemon')
    .requiredOption('--policy <file>', 'checkpoint, or an ensemble\'s checkpoints separated by commas')
    .requiredOption('--robot <url>', 'ws://HOST:PORT')
    .option('--http <host:port>', 'health and metrics address', '127.0.0.1:8080')
    .option('--config <file>', 'runtime config (JSON or YAML)')
    .action(async (opts: Record<string, unknown>) => (await import('./serve.ts')).serveCommand(opts));

  sub(program, 'ui')
    .description('the web app: live sensors, health, teleop')
    .requiredOption('--robot <url>', 'ws://HOST:PORT')
    .option('--http <host:port>', 'address', '127.0.0.1:8090')
    .option('--task <task>', 'task name for recorded episodes (default: what the robot reports, else teleop)')
    .option('--out <dir>', 'dataset directory for episodes recorded from the page', 'recordings')
    .option('--seed <s>', 'seed of the first episode (episode i: seed + i)', '0')
    .option('--config <file>', 'teleop config: speeds, key and gamepad maps, stream rates (JSON or YAML)')
    .option('--operator <name>', 'operator name for the episode metadata')
    .action(async (opts: Record<string, unknown>) => (await import('./ui.ts')).uiCommand(opts));

  sub(program, 'tune')
    .description('pre-tune WebGPU kernels for the shapes of a policy (default network, or a checkpoint) and print the choices')
    .option('--policy <file>', 'checkpoint (.safetensors); default: the default policy network')
    .option('--cache <file>', 'tuning cache (default: $SENSEACT_TUNE_CACHE or ~/.cache/senseact/kernels.json)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: { policy?: string; cache?: string; json?: boolean }) => (await import('./tune.ts')).tuneCommand(opts));

  sub(program, 'bench')
    .description('benchmarks against a named peer, side by side')
    .argument('<what>', 'kernels | train | infer | record | sim | loop')
    .option('--json', 'print one JSON object on stdout')
    .option('--quick', 'reduced version for CI')
    .action(async (what: string, opts: { json?: boolean; quick?: boolean }) => (await import('./bench.ts')).benchCommand(what, opts));

  return program;
}

/** Runs the CLI; sets process.exitCode rather than exiting so cleanup can finish. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      if (err.exitCode === 0) return;
      process.stderr.write(`senseact: ${err.message.replace(/^error: /, '')}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`senseact: ${err.message}\n`);
      process.exitCode = err.code;
      return;
    }
    process.stderr.write(`senseact: unexpected error: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  }
}
