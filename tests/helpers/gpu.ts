// Shared WebGPU access for tests. Without an adapter, WebGPU tests skip with a
// printed reason; with SENSEACT_REQUIRE_WEBGPU=1 (CI) a missing adapter fails.
import { acquireBackend, webgpuRequired, type GpuHandle } from '../../kernels/index.ts';

export async function testGpu(): Promise<GpuHandle | null> {
  const choice = await acquireBackend({ prefer: 'webgpu' });
  if (choice.backend === 'webgpu') return choice.gpu;
  if (webgpuRequired()) {
    throw new Error(`SENSEACT_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${choice.reason}; ${choice.fix}`);
  }
  console.warn(`[senseact tests] WebGPU tests skipped: ${choice.reason}; ${choice.fix}`);
  return null;
}

/**
 * Whether a WebGPU adapter exists, asked of a child `senseact doctor` so the
 * test process itself never loads Dawn. Test files that spawn processes use
 * this: a vitest worker that has loaded Dawn and later forks can abort inside
 * a driver mutex (seen: pthread_mutex_lock assertion), which standalone
 * processes never showed.
 */
export async function adapterInChild(): Promise<boolean> {
  const { senseact } = await import('./cli.ts');
  const run = senseact(['doctor', '--json']);
  const report = run.status === 0 ? (JSON.parse(run.stdout) as { backend: string; reason: string; fix: string | null }) : null;
  if (report?.backend === 'webgpu') return true;
  const reason = report ? `${report.reason}; ${report.fix}` : `doctor failed: ${run.stderr}`;
  if (webgpuRequired()) throw new Error(`SENSEACT_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${reason}`);
  console.warn(`[senseact tests] WebGPU tests skipped: ${reason}`);
  return false;
}
