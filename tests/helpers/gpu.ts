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
