// The remaining primitives: fill, im2col/col2im (NHWC), gather/scatter-add,
// the counter RNG and the fused AdamW step. One thread per output element.
import type { ConvGeometry } from '../../backend.ts';
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

/**
 * The sizes im2col and col2im divide by (a convolution's geometry but its
 * batch, which only scales the grid), baked into the kernel as WGSL
 * constants so their divisions and remainders compile to multiplies and
 * shifts. Read from the uniform, each is a real integer division, which a CPU
 * driver runs one lane at a time (x86 has no vector integer divide): the
 * kernels ran 1.4–1.8× slower on lavapipe. A pipeline per geometry is cheap
 * here, as a policy has a handful of convolutions; the implicit-GEMM kernels
 * (matmulTiled.ts) stay generic, since the tuner compiles every candidate.
 */
export type ConvSizes = Omit<ConvGeometry, 'n'>;

const SIZE_NAMES = ['h', 'w', 'c', 'kh', 'kw', 'stride', 'pad', 'oh', 'ow'] as const satisfies readonly (keyof ConvSizes)[];

/** The pipeline key of one geometry's kernel. */
export function convSizesKey(g: ConvSizes): string {
  return 'g' + SIZE_NAMES.map((k) => g[k]).join('.');
}

/** The sizes as module-scope constants G_H, G_W, …. */
function sizeConstants(g: ConvSizes): string {
  return SIZE_NAMES.map((k) => `const G_${k.toUpperCase()} = ${g[k]}u;`).join('\n');
}

/** im2col over NHWC, for one geometry (ConvSizes). */
export function im2colKernel(g: ConvSizes): string {
  return /* wgsl */ `${HEADER}${CONV_STRUCT}
${sizeConstants(g)}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.d.w) { return; }
  let width = G_KH * G_KW * G_C;
  let row = i / width;
  let col = i % width;
  let c = col % G_C;
  let kx = (col / G_C) % G_KW;
  let ky = col / (G_C * G_KW);
  let ox = row % G_OW;
  let oy = (row / G_OW) % G_OH;
  let n = row / (G_OH * G_OW);
  let iy = i32(oy * G_STRIDE + ky) - i32(G_PAD);
  let ix = i32(ox * G_STRIDE + kx) - i32(G_PAD);
  var v = 0.0;
  if (iy >= 0 && iy < i32(G_H) && ix >= 0 && ix < i32(G_W)) {
    v = x[p.d.z + n * p.st.x + u32(iy) * p.st.y + u32(ix) * p.st.z + c * p.st.w];
  }
  cols[i] = v;
}`;
}

// Gather form of col2im: each input pixel sums the columns that read it, so
// no atomics are needed and the result is deterministic.
export function col2imKernel(g: ConvSizes): string {
  return /* wgsl */ `${HEADER}${CONV_STRUCT}
${sizeConstants(g)}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.d.w) { return; }
  let c = i % G_C;
  let x = (i / G_C) % G_W;
  let y = (i / (G_C * G_W)) % G_H;
  let n = i / (G_C * G_W * G_H);
  let width = G_KH * G_KW * G_C;
  var acc = 0.0;
  for (var ky = 0u; ky < G_KH; ky++) {
    let ty = i32(y + G_PAD) - i32(ky);
    if (ty < 0 || ty % i32(G_STRIDE) != 0) { continue; }
    let oy = u32(ty) / G_STRIDE;
    if (oy >= G_OH) { continue; }
    for (var kx = 0u; kx < G_KW; kx++) {
      let tx = i32(x + G_PAD) - i32(kx);
      if (tx < 0 || tx % i32(G_STRIDE) != 0) { continue; }
      let ox = u32(tx) / G_STRIDE;
      if (ox >= G_OW) { continue; }
      let row = (n * G_OH + oy) * G_OW + ox;
      acc += cols[p.d.z + row * width + (ky * G_KW + kx) * G_C + c];
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
