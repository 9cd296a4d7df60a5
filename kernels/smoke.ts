// A one-kernel check that the WebGPU path computes what the CPU computes:
// y = tanh(a·x + b) over a vector whose length is not a multiple of the
// workgroup size, so bounds handling is exercised too.

const WGSL = /* wgsl */ `
struct Params { a: f32, b: f32, n: u32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  y[i] = tanh(p.a * x[i] + p.b);
}`;

export interface SmokeResult {
  n: number;
  maxAbsError: number;
  ok: boolean;
  ms: number;
}

export function smokeCpu(x: Float32Array, a: number, b: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = Math.tanh(Math.fround(Math.fround(a * x[i]) + b));
  return y;
}

export async function smokeWebGpu(device: GPUDevice, x: Float32Array, a: number, b: number): Promise<Float32Array> {
  const module = device.createShaderModule({ code: WGSL, label: 'smoke' });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const params = new ArrayBuffer(16);
  new Float32Array(params, 0, 2).set([a, b]);
  new Uint32Array(params, 8, 1)[0] = x.length;
  const uniform = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, params);
  const bytes = x.byteLength;
  const input = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(input, 0, x);
  const output = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniform } },
      { binding: 1, resource: { buffer: input } },
      { binding: 2, resource: { buffer: output } },
    ],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(x.length / 64));
  pass.end();
  encoder.copyBufferToBuffer(output, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const y = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  for (const buffer of [uniform, input, output, readback]) buffer.destroy();
  return y;
}

export async function runSmoke(device: GPUDevice, n = 10_007): Promise<SmokeResult> {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 3;
  const start = performance.now();
  const gpu = await smokeWebGpu(device, x, 0.75, -0.25);
  const ms = performance.now() - start;
  const cpu = smokeCpu(x, 0.75, -0.25);
  let maxAbsError = 0;
  for (let i = 0; i < n; i++) {
    const err = Math.abs(gpu[i] - cpu[i]);
    maxAbsError = Number.isNaN(err) ? Infinity : Math.max(maxAbsError, err);
  }
  return { n, maxAbsError, ok: maxAbsError <= 1e-5, ms };
}
