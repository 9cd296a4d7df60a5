// `senseact demo`: the whole loop on the embedded simulator. It runs what is
// built today and names what is still to come; it never fakes a stage.
import { acquireBackend, runSmoke } from '../kernels/index.ts';
import { doctorReport, formatDoctor } from './doctor.ts';
import { CliError } from './errors.ts';

const STILL_TO_COME = [
  'record 3 expert demos of find-smell in the simulator (issue #5)',
  'train the few-shot multimodal policy on them (issue #6)',
  'evaluate it on 20 held-out seeds beside the vision-only ablation (issue #6)',
  'deploy it with the health monitor and inject a sensor fault (issue #8)',
  'write demo-output/report.html (issue #10)',
];

export async function runDemo(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  const t0 = performance.now();
  log('senseact demo\n');
  log('[1/2] doctor');
  const report = await doctorReport();
  log(formatDoctor(report).replace(/^/gm, '  '));

  log('\n[2/2] WGSL smoke kernel vs the CPU reference');
  const choice = await acquireBackend();
  if (choice.backend === 'webgpu') {
    try {
      const smoke = await runSmoke(choice.gpu.device);
      log(`  tanh(a·x+b) over ${smoke.n} values: max |gpu − cpu| = ${smoke.maxAbsError.toExponential(2)} → ${smoke.ok ? 'match' : 'MISMATCH'} (${smoke.ms.toFixed(1)} ms)`);
      if (!smoke.ok) throw new CliError('the WebGPU smoke kernel disagrees with the CPU reference');
    } finally {
      choice.gpu.release();
    }
  } else {
    log(`  skipped: ${choice.reason}; fix: ${choice.fix ?? 'n/a'} (the CPU backend is used instead)`);
  }

  log('\nStill to come in this demo:');
  for (const step of STILL_TO_COME) log(`  - ${step}`);
  log(`\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
