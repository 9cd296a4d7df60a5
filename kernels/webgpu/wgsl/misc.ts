// The remaining primitives: fill, im2col/col2im (NHWC), gather/scatter-add,
// the counter RNG and the fused AdamW step. One thread per output element.
import { WGSL_RNG } from '../../rng.ts';

const HEADER = /* wgsl */ `
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }`;

export function fillKernel(): string {
  return /* wgsl */ `${HEADER}
struct P { n: u32, bits: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.n) { out[i] = bitcast<f32>(p.bits); }
}`;
}

const CONV_STRUCT = /* wgsl */ `
struct P {
  a: vec4<u32>, // n, h, w, c
  b: vec4<u32>, // kh, kw, stride, pad
  d: vec4<u32>, // oh, ow, input offset, total
  st: vec4<u32>, // input strides n, h, w, c
}`;

export function im2colKernel(): string {
  return /* wgsl */ `${HEADER}${CONV_STRUCT}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.d.w) { return; }
  let C = p.a.w;
  let width = p.b.x * p.b.y * C;
  let row = i / width;
  let col = i % width;
  let c = col % C;
  let kx = (col / C) % p.b.y;
  let ky = col / (C * p.b.y);
  let ox = row % p.d.y;
  let oy = (row / p.d.y) % p.d.x;
  let n = row / (p.d.x * p.d.y);
  let iy = i32(oy * p.b.z + ky) - i32(p.b.w);
  let ix = i32(ox * p.b.z + kx) - i32(p.b.w);
  var v = 0.0;
  if (iy >= 0 && iy < i32(p.a.y) && ix >= 0 && ix < i32(p.a.z)) {
    v = x[p.d.z + n * p.st.x + u32(iy) * p.st.y + u32(ix) * p.st.z + c * p.st.w];
  }
  cols[i] = v;
}`;
}

// Gather form of col2im: each input pixel sums the columns that read it, so
// no atomics are needed and the result is deterministic.
export function col2imKernel(): string {
  return /* wgsl */ `${HEADER}${CONV_STRUCT}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.d.w) { return; }
  let C = p.a.w;
  let c = i % C;
  let x = (i / C) % p.a.z;
  let y = (i / (C * p.a.z)) % p.a.y;
  let n = i / (C * p.a.z * p.a.y);
  let width = p.b.x * p.b.y * C;
  var acc = 0.0;
  for (var ky = 0u; ky < p.b.x; ky++) {
    let ty = i32(y + p.b.w) - i32(ky);
    if (ty < 0 || ty % i32(p.b.z) != 0) { continue; }
    let oy = u32(ty) / p.b.z;
    if (oy >= p.d.x) { continue; }
    for (var kx = 0u; kx < p.b.y; kx++) {
      let tx = i32(x + p.b.w) - i32(kx);
      if (tx < 0 || tx % i32(p.b.z) != 0) { continue; }
      let ox = u32(tx) / p.b.z;
      if (ox >= p.d.y) { continue; }
      let row = (n * p.d.x + oy) * p.d.y + ox;
      acc += cols[p.d.z + row * width + (ky * p.b.y + kx) * C + c];
    }
  }
  dx[i] = acc;
}`;
}

export function gatherKernel(): string {
  return /* wgsl */ `${HEADER}
struct P { n: u32, dim: u32, t_off: u32, i_off: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let r = u32(idx[p.i_off + i / p.dim]);
  out[i] = table[p.t_off + r * p.dim + i % p.dim];
}`;
}

export function scatterAddKernel(): string {
  return /* wgsl */ `${HEADER}
struct P { n: u32, dim: u32, count: u32, g_off: u32, i_off: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let r = f32(i / p.dim);
  let j = i % p.dim;
  var acc = 0.0;
  for (var k = 0u; k < p.count; k++) {
    if (idx[p.i_off + k] == r) { acc += grad[p.g_off + k * p.dim + j]; }
  }
  out[i] = acc;
}`;
}

export function randomKernel(dist: 'uniform' | 'normal'): string {
  return /* wgsl */ `${HEADER}${WGSL_RNG}
struct P { n: u32, seed: u32, counter: u32, _a: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.n) { out[i] = ${dist}_at(p.seed, p.counter, i); }
}`;
}

export function adamwKernel(): string {
  return /* wgsl */ `${HEADER}
struct P {
  n: u32, g_off: u32, _a: u32, _b: u32,
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  wd: f32, bc1: f32, bc2: f32, _c: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let g = grad[p.g_off + i] * scale[0];
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let update = (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps);
  param[i] = param[i] - p.lr * (update + p.wd * param[i]);
}`;
}

// Normalization over groups of dense x viewed as [A, B, G, K] (layer norm:
// [rows, 1, 1, C]; group norm: [N, H·W, groups, C/groups]). One thread per
// group walks its B·K elements: the policy's groups number 128–200 of 64–2048
// elements, where a thread per group keeps every lane busy on a CPU driver and
// replaces the ten dispatches (two means, sub, square, sqrt, div…) of the
// composite form, and its backward's twenty, with one each.
const NORM_HEADER = /* wgsl */ `
struct P { a: u32, b: u32, g: u32, k: u32, x_off: u32, y_off: u32, eps: f32, _p: u32 }
@group(0) @binding(0) var<uniform> p: P;
fn at(grp: u32, j: u32) -> u32 {
  return ((grp / p.g * p.b + j / p.k) * p.g + grp % p.g) * p.k + j % p.k;
}`;

/** The entry both passes share: one invocation per group `grp` of `n` elements. */
const NORM_ENTRY = /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let grp = gid.x + gid.y * nwg.x * 64u;
  if (grp >= p.a * p.g) { return; }
  let n = p.b * p.k;`;

export function normalizeKernel(): string {
  return /* wgsl */ `${NORM_HEADER}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
${NORM_ENTRY}
  var sum = 0.0;
  for (var j = 0u; j < n; j++) { sum += x[p.x_off + at(grp, j)]; }
  let mean = sum / f32(n);
  var sq = 0.0;
  for (var j = 0u; j < n; j++) { let d = x[p.x_off + at(grp, j)] - mean; sq += d * d; }
  let r = 1.0 / sqrt(sq / f32(n) + p.eps);
  for (var j = 0u; j < n; j++) { let i = at(grp, j); y[i] = (x[p.x_off + i] - mean) * r; }
  rstd[grp] = r;
}`;
}

export function normalizeBackwardKernel(): string {
  return /* wgsl */ `${NORM_HEADER}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
${NORM_ENTRY}
  var s1 = 0.0;
  var s2 = 0.0;
  for (var j = 0u; j < n; j++) { let i = at(grp, j); let g = dy[p.x_off + i]; s1 += g; s2 += g * y[p.y_off + i]; }
  let m1 = s1 / f32(n);
  let m2 = s2 / f32(n);
  let r = rstd[grp];
  for (var j = 0u; j < n; j++) { let i = at(grp, j); dx[i] = r * (dy[p.x_off + i] - m1 - y[p.y_off + i] * m2); }
}`;
}
