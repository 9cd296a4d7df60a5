// Batched, strided matmul: 64×64 output tiles, 16×16 threads computing 4×4
// each, K stepped 16 at a time through workgroup memory. Transposes are just
// strides, and the bias + activation epilogue is fused into the store.
export const MATMUL_UNIFORM_BYTES = 64;

export function matmulKernel(): string {
  return /* wgsl */ `
struct P {
  dims: vec4<u32>,  // M, N, K, act (0 none, 1 relu, 2 gelu)
  a: vec4<u32>,     // offset, batch stride, row stride, k stride
  b: vec4<u32>,     // offset, batch stride, k stride, col stride
  e: vec4<u32>,     // has bias, bias offset, -, -
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
  let batch = wg.z;
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

  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var l = 0u; l < 4u; l++) {
      let e = tid + l * 256u;
      // A tile: element e = (m, k) with k fastest.
      let am = e / 16u;
      let ak = e % 16u;
      var av = 0.0;
      if (row0 + am < M && k0 + ak < K) { av = A[aBase + (row0 + am) * p.a.z + (k0 + ak) * p.a.w]; }
      As[ak * 64u + am] = av;
      // B tile: element e = (k, n) with n fastest.
      let bk = e / 64u;
      let bn = e % 64u;
      var bv = 0.0;
      if (k0 + bk < K && col0 + bn < N) { bv = B[bBase + (k0 + bk) * p.b.z + (col0 + bn) * p.b.w]; }
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

  store(row0 + ty4, col0 + tx4, batch, acc0);
  store(row0 + ty4 + 1u, col0 + tx4, batch, acc1);
  store(row0 + ty4 + 2u, col0 + tx4, batch, acc2);
  store(row0 + ty4 + 3u, col0 + tx4, batch, acc3);
}`;
}
