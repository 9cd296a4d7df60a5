// Batched, strided matmul: 64×64 output tiles, 16×16 threads computing 4×4
// each, K stepped 16 at a time through workgroup memory. Transposes are just
// strides, and the bias + activation epilogue is fused into the store.
export const MATMUL_UNIFORM_BYTES = 80;

export function matmulKernel(): string {
  return /* wgsl */ `
struct P {
  dims: vec4<u32>,  // M, N, K, act (0 none, 1 relu, 2 gelu)
  a: vec4<u32>,     // offset, batch stride, row stride, k stride
  b: vec4<u32>,     // offset, batch stride, k stride, col stride
  e: vec4<u32>,     // has bias, bias offset, -, -
  ks: vec4<u32>,    // K per split, number of splits, batch count, -
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<f32, 1024>; // [k][m], 16 × 64
var<workgroup> Bs: array<f32, 1024>; // [k][n], 16 × 64

fn activate(x: f32) -> f32 {
  if (p.dims.w == 1u) { return max(x, 0.0); }
  if (p.dims.w == 2u) {
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
    return 0.5 * x * (1.0 + tanh(u));
  }
  return x;
}

fn store(r: u32, c0: u32, batch: u32, v: vec4<f32>) {
  if (r >= p.dims.x) { return; }
  let N = p.dims.y;
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c >= N) { return; }
    var x = v[j];
    if (p.e.x == 1u) { x += bias[p.e.y + c]; }
    C[(batch * p.dims.x + r) * N + c] = activate(x);
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p.dims.x;
  let N = p.dims.y;
  let K = p.dims.z;
  // Split-K: workgroup z enumerates (batch, split); each split sums its own
  // K range into a partial product that splitKReduce adds up.
  let split = wg.z % p.ks.y;
  let batch = wg.z / p.ks.y;
  let kBegin = split * p.ks.x;
  let kEnd = min(K, kBegin + p.ks.x);
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let tid = lid.y * 16u + lid.x;
  let aBase = p.a.x + batch * p.a.y;
  let bBase = p.b.x + batch * p.b.y;
  // Four vec4 accumulators (not an indexed array) so the compiler keeps them
  // in registers; dynamic indexing spills to memory on CPU drivers.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let ty4 = lid.y * 4u;
  let tx4 = lid.x * 4u;

  for (var k0 = kBegin; k0 < kEnd; k0 += 16u) {
    for (var l = 0u; l < 4u; l++) {
      let e = tid + l * 256u;
      // A tile: element e = (m, k) with k fastest.
      let am = e / 16u;
      let ak = e % 16u;
      var av = 0.0;
      if (row0 + am < M && k0 + ak < kEnd) { av = A[aBase + (row0 + am) * p.a.z + (k0 + ak) * p.a.w]; }
      As[ak * 64u + am] = av;
      // B tile: element e = (k, n) with n fastest.
      let bk = e / 64u;
      let bn = e % 64u;
      var bv = 0.0;
      if (k0 + bk < kEnd && col0 + bn < N) { bv = B[bBase + (k0 + bk) * p.b.z + (col0 + bn) * p.b.w]; }
      Bs[bk * 64u + bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a = vec4<f32>(As[kk * 64u + ty4], As[kk * 64u + ty4 + 1u], As[kk * 64u + ty4 + 2u], As[kk * 64u + ty4 + 3u]);
      let b = vec4<f32>(Bs[kk * 64u + tx4], Bs[kk * 64u + tx4 + 1u], Bs[kk * 64u + tx4 + 2u], Bs[kk * 64u + tx4 + 3u]);
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }

  let slab = split * p.ks.z + batch;
  store(row0 + ty4, col0 + tx4, slab, acc0);
  store(row0 + ty4 + 1u, col0 + tx4, slab, acc1);
  store(row0 + ty4 + 2u, col0 + tx4, slab, acc2);
  store(row0 + ty4 + 3u, col0 + tx4, slab, acc3);
}`;
}

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
