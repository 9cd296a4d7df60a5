// The matmul kernels outside the tiled template (matmulTiled.ts): the split-K
// reducer and the one-thread-per-output kernel for tiny outputs (the gemv path).
/** Sums split-K partials [S, B·M·N] and applies the bias + activation epilogue. */
export function splitKReduceKernel(): string {
  return /* wgsl */ `
struct P {
  dims: vec4<u32>,  // M, N, -, act
  e: vec4<u32>,     // has bias, bias offset, splits, total (B·M·N)
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let total = p.e.w;
  if (i >= total) { return; }
  var x = 0.0;
  for (var s = 0u; s < p.e.z; s++) { x += partial[s * total + i]; }
  if (p.e.x == 1u) { x += bias[p.e.y + i % p.dims.y]; }
  if (p.dims.w == 1u) { x = max(x, 0.0); }
  if (p.dims.w == 2u) {
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
    x = 0.5 * x * (1.0 + tanh(u));
  }
  C[i] = x;
}`;
}

/**
 * One thread per output element, looping over K. For products whose M or N
 * is far below a 64×64 tile (attention scores over a handful of tokens, a
 * gemv), where the tiled kernel would leave most of each workgroup idle.
 */
export function matmulSmallKernel(): string {
  return /* wgsl */ `
struct P {
  dims: vec4<u32>,
  a: vec4<u32>,
  b: vec4<u32>,
  e: vec4<u32>,
  ks: vec4<u32>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let M = p.dims.x;
  let N = p.dims.y;
  let K = p.dims.z;
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.ks.z * M * N) { return; }
  let c = i % N;
  let r = (i / N) % M;
  let batch = i / (M * N);
  var ai = p.a.x + batch * p.a.y + r * p.a.z;
  var bi = p.b.x + batch * p.b.y + c * p.b.w;
  var x = 0.0;
  for (var k = 0u; k < K; k++) {
    x += A[ai] * B[bi];
    ai += p.a.w;
    bi += p.b.z;
  }
  if (p.e.x == 1u) { x += bias[p.e.y + c]; }
  if (p.dims.w == 1u) { x = max(x, 0.0); }
  if (p.dims.w == 2u) {
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
    x = 0.5 * x * (1.0 + tanh(u));
  }
  C[i] = x;
}`;
}
