// Exits 0 when Dawn offers a WebGPU adapter here, 1 otherwise. Used by setup-gpu.sh.
import { create } from 'webgpu';
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) process.exit(1);
console.log(adapter.info?.description || adapter.info?.device || 'adapter');
process.exit(0);
