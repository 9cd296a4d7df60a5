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
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

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
      var ar: array<f32, 4>;
      var br: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        ar[i] = As[kk * 64u + lid.y * 4u + i];
        br[i] = Bs[kk * 64u + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] += ar[i] * br[j]; }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c >= N) { continue; }
      var v = acc[i * 4u + j];
      if (p.e.x == 1u) { v += bias[p.e.y + c]; }
      C[(batch * M + r) * N + c] = activate(v);
    }
  }
}`;
}
