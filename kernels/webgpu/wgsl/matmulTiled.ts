// The parameterized tiled matmul: one WGSL template, many kernels. A
// workgroup of wgM × wgN threads computes a (wgM·tm) × (wgN·tn) output tile,
// each thread a tm × tn block held in vec4 registers, stepping K by tk through
// workgroup memory. The operands' layouts ('n': the contiguous dim is the
// inner one of the math, 't': transposed) only decide which thread loads which
// element, so any layout computes the right answer; vec4 loads need the
// alignment the caller checks (matmulAlign). The A operand can also be a
// virtual matrix gathered from an NHWC image (implicit-GEMM convolution):
// 'im2col' (forward), 'im2colT' (weight gradient) and 'col2im' (input
// gradient: the output gradient gathered through the kernel window).
//
// The uniform block is the one the original 64×64 kernel used, so the
// configuration { wgM 16, wgN 16, tm 4, tn 4, tk 16 } with plain loads is that
// kernel exactly (the untuned default).
export const MATMUL_UNIFORM_BYTES = 80;
export const CONV_MATMUL_UNIFORM_BYTES = 144;

export type OperandLayout = 'n' | 't';
/** How the A operand is read: a strided matrix, or gathered from an NHWC tensor. */
export type ASource = 'strided' | 'im2col' | 'im2colT' | 'col2im';

export interface TiledConfig {
  /** Threads along M and along N. */
  wgM: number;
  wgN: number;
  /** Outputs per thread along M and N (each 4 or 8). */
  tm: number;
  tn: number;
  /** K step through workgroup memory. */
  tk: number;
}

export interface TiledSpec extends TiledConfig {
  aLayout: OperandLayout;
  bLayout: OperandLayout;
  vecA: boolean;
  vecB: boolean;
  aSource: ASource;
}

export const tileM = (c: TiledConfig) => c.wgM * c.tm;
export const tileN = (c: TiledConfig) => c.wgN * c.tn;
export const threads = (c: TiledConfig) => c.wgM * c.wgN;
export const sharedBytes = (c: TiledConfig) => 4 * c.tk * (tileM(c) + tileN(c));

export function tiledKey(s: TiledSpec): string {
  return `mm:${s.wgM}x${s.wgN}r${s.tm}x${s.tn}k${s.tk}:${s.aLayout}${s.bLayout}${s.vecA ? 'A4' : ''}${s.vecB ? 'B4' : ''}${s.aSource === 'strided' ? '' : ':' + s.aSource}`;
}

const GELU = `let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
    x = 0.5 * x * (1.0 + tanh(u));`;

const STRUCT = /* wgsl */ `
struct P {
  dims: vec4<u32>,  // M, N, K, act (0 none, 1 relu, 2 gelu)
  a: vec4<u32>,     // offset, batch stride, row stride, k stride
  b: vec4<u32>,     // offset, batch stride, k stride, col stride
  e: vec4<u32>,     // has bias, bias offset, -, -
  ks: vec4<u32>,    // K per split, number of splits, batch count, -
}`;

const CONV_STRUCT = /* wgsl */ `
struct P {
  dims: vec4<u32>,  // M, N, K, act
  a: vec4<u32>,     // offset of the gathered tensor, -, -, -
  b: vec4<u32>,     // offset, batch stride, k stride, col stride
  e: vec4<u32>,     // has bias, bias offset, -, -
  ks: vec4<u32>,    // K per split, number of splits, batch count (1), -
  g0: vec4<u32>,    // n, h, w, c   (the image)
  g1: vec4<u32>,    // kh, kw, stride, pad
  g2: vec4<u32>,    // oh, ow, channels of the gathered tensor, -
  g3: vec4<u32>,    // strides of the gathered tensor: n, y, x, c
}`;

/** f32 gather functions for the virtual A operands. */
function convGather(source: ASource): string {
  if (source === 'strided') return '';
  // colsAt(row, col): element of im2col(x) = [N·OH·OW, KH·KW·C].
  const cols = /* wgsl */ `
fn colsAt(row: u32, col: u32) -> f32 {
  let C = p.g0.w;
  let c = col % C;
  let kx = (col / C) % p.g1.y;
  let ky = col / (C * p.g1.y);
  let ox = row % p.g2.y;
  let oy = (row / p.g2.y) % p.g2.x;
  let n = row / (p.g2.x * p.g2.y);
  let iy = i32(oy * p.g1.z + ky) - i32(p.g1.w);
  let ix = i32(ox * p.g1.z + kx) - i32(p.g1.w);
  if (iy < 0 || iy >= i32(p.g0.y) || ix < 0 || ix >= i32(p.g0.z)) { return 0.0; }
  return A[p.a.x + n * p.g3.x + u32(iy) * p.g3.y + u32(ix) * p.g3.z + c * p.g3.w];
}`;
  if (source === 'im2col') return cols + '\nfn aAt(m: u32, k: u32) -> f32 { return colsAt(m, k); }';
  if (source === 'im2colT') return cols + '\nfn aAt(m: u32, k: u32) -> f32 { return colsAt(k, m); }';
  // col2im: A[(n, y, x), (ky, kx, co)] = gradOut[n, oy, ox, co] where
  // y = oy·stride − pad + ky (and likewise x), else 0.
  return /* wgsl */ `
fn aAt(m: u32, k: u32) -> f32 {
  let CO = p.g2.z;
  let co = k % CO;
  let kx = (k / CO) % p.g1.y;
  let ky = k / (CO * p.g1.y);
  let x = m % p.g0.z;
  let y = (m / p.g0.z) % p.g0.y;
  let n = m / (p.g0.z * p.g0.y);
  let ty = i32(y + p.g1.w) - i32(ky);
  let tx = i32(x + p.g1.w) - i32(kx);
  let s = i32(p.g1.z);
  if (ty < 0 || tx < 0 || ty % s != 0 || tx % s != 0) { return 0.0; }
  let oy = u32(ty / s);
  let ox = u32(tx / s);
  if (oy >= p.g2.x || ox >= p.g2.y) { return 0.0; }
  return A[p.a.x + n * p.g3.x + oy * p.g3.y + ox * p.g3.z + co * p.g3.w];
}`;
}

function loadA(s: TiledSpec): string {
  const TM = tileM(s);
  const T = threads(s);
  if (s.aSource !== 'strided') {
    const units = TM * s.tk;
    return loop(units, T, (e) => {
      const [m, k] = s.aLayout === 'n' ? [`${e} / ${s.tk}u`, `${e} % ${s.tk}u`] : [`${e} % ${TM}u`, `${e} / ${TM}u`];
      return `let am = ${m}; let ak = ${k};
      var av = 0.0;
      if (row0 + am < M && k0 + ak < kEnd) { av = aAt(row0 + am, k0 + ak); }
      As[(ak * ${TM}u + am) / 4u][am % 4u] = av;`;
    });
  }
  if (!s.vecA) {
    const units = TM * s.tk;
    return loop(units, T, (e) => {
      const [m, k] = s.aLayout === 'n' ? [`${e} / ${s.tk}u`, `${e} % ${s.tk}u`] : [`${e} % ${TM}u`, `${e} / ${TM}u`];
      return `let am = ${m}; let ak = ${k};
      var av = 0.0;
      if (row0 + am < M && k0 + ak < kEnd) { av = A[aBase + (row0 + am) * p.a.z + (k0 + ak) * p.a.w]; }
      As[(ak * ${TM}u + am) / 4u][am % 4u] = av;`;
    });
  }
  if (s.aLayout === 'n') {
    // k contiguous: one vec4 = four k of one row, scattered into four k rows of As.
    const per = s.tk / 4;
    return loop(TM * per, T, (e) => `let am = ${e} / ${per}u; let ak = (${e} % ${per}u) * 4u;
      var av = vec4<f32>(0.0);
      if (row0 + am < M && k0 + ak < kEnd) { av = A[(aBase + (row0 + am) * p.a.z + k0 + ak) / 4u]; }
      for (var j = 0u; j < 4u; j++) { As[((ak + j) * ${TM}u + am) / 4u][am % 4u] = av[j]; }`);
  }
  // m contiguous: one vec4 = four rows of one k, stored as one vec4 of As.
  const per = TM / 4;
  return loop(per * s.tk, T, (e) => `let am = (${e} % ${per}u) * 4u; let ak = ${e} / ${per}u;
      var av = vec4<f32>(0.0);
      if (row0 + am < M && k0 + ak < kEnd) { av = A[(aBase + row0 + am + (k0 + ak) * p.a.w) / 4u]; }
      As[(ak * ${TM}u + am) / 4u] = av;`);
}

function loadB(s: TiledSpec): string {
  const TN = tileN(s);
  const T = threads(s);
  if (!s.vecB) {
    return loop(TN * s.tk, T, (e) => {
      const [k, n] = s.bLayout === 'n' ? [`${e} / ${TN}u`, `${e} % ${TN}u`] : [`${e} % ${s.tk}u`, `${e} / ${s.tk}u`];
      return `let bk = ${k}; let bn = ${n};
      var bv = 0.0;
      if (k0 + bk < kEnd && col0 + bn < N) { bv = B[bBase + (k0 + bk) * p.b.z + (col0 + bn) * p.b.w]; }
      Bs[(bk * ${TN}u + bn) / 4u][bn % 4u] = bv;`;
    });
  }
  if (s.bLayout === 'n') {
    const per = TN / 4;
    return loop(per * s.tk, T, (e) => `let bn = (${e} % ${per}u) * 4u; let bk = ${e} / ${per}u;
      var bv = vec4<f32>(0.0);
      if (k0 + bk < kEnd && col0 + bn < N) { bv = B[(bBase + (k0 + bk) * p.b.z + col0 + bn) / 4u]; }
      Bs[(bk * ${TN}u + bn) / 4u] = bv;`);
  }
  const per = s.tk / 4;
  return loop(TN * per, T, (e) => `let bn = ${e} / ${per}u; let bk = (${e} % ${per}u) * 4u;
      var bv = vec4<f32>(0.0);
      if (k0 + bk < kEnd && col0 + bn < N) { bv = B[(bBase + (col0 + bn) * p.b.w + k0 + bk) / 4u]; }
      for (var j = 0u; j < 4u; j++) { Bs[((bk + j) * ${TN}u + bn) / 4u][bn % 4u] = bv[j]; }`);
}

/** A loop over `units` work items shared by `T` threads, guarded only when they do not divide evenly. */
function loop(units: number, T: number, body: (e: string) => string): string {
  const rounds = Math.ceil(units / T);
  const guard = units % T === 0 ? '' : `if (e >= ${units}u) { break; }\n      `;
  return `for (var l = 0u; l < ${rounds}u; l++) {
      let e = tid + l * ${T}u;
      ${guard}${body('e')}
    }`;
}

export function matmulTiledKernel(s: TiledSpec): string {
  const TM = tileM(s);
  const TN = tileN(s);
  const rows = s.tm;
  const colVecs = s.tn / 4;
  const rowVecs = s.tm / 4;
  const conv = s.aSource !== 'strided';
  const accs: string[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < colVecs; c++) accs.push(`acc${r}_${c}`);
  const fma: string[] = [];
  for (let rv = 0; rv < rowVecs; rv++) fma.push(`let a${rv} = As[(kk * ${TM}u + ty) / 4u + ${rv}u];`);
  for (let c = 0; c < colVecs; c++) fma.push(`let b${c} = Bs[(kk * ${TN}u + tx) / 4u + ${c}u];`);
  for (let r = 0; r < rows; r++) for (let c = 0; c < colVecs; c++) fma.push(`acc${r}_${c} += a${r >> 2}[${r & 3}] * b${c};`);
  const stores: string[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < colVecs; c++) stores.push(`store(row0 + ty + ${r}u, col0 + tx + ${4 * c}u, slab, acc${r}_${c});`);
  const aType = s.vecA && !conv ? 'vec4<f32>' : 'f32';
  const bType = s.vecB ? 'vec4<f32>' : 'f32';
  return /* wgsl */ `${conv ? CONV_STRUCT : STRUCT}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<${aType}>;
@group(0) @binding(2) var<storage, read> B: array<${bType}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<vec4<f32>, ${(s.tk * TM) / 4}>; // [k][m]
var<workgroup> Bs: array<vec4<f32>, ${(s.tk * TN) / 4}>; // [k][n]
${convGather(s.aSource)}

fn activate(v: f32) -> f32 {
  var x = v;
  if (p.dims.w == 1u) { x = max(x, 0.0); }
  if (p.dims.w == 2u) {
    ${GELU}
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

@compute @workgroup_size(${s.wgN}, ${s.wgM})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p.dims.x;
  let N = p.dims.y;
  let K = p.dims.z;
  // Split-K: workgroup z enumerates (batch, split).
  let split = wg.z % p.ks.y;
  let batch = wg.z / p.ks.y;
  let kBegin = split * p.ks.x;
  let kEnd = min(K, kBegin + p.ks.x);
  let row0 = wg.y * ${TM}u;
  let col0 = wg.x * ${TN}u;
  let tid = lid.y * ${s.wgN}u + lid.x;
  let aBase = p.a.x + batch * p.a.y;
  let bBase = p.b.x + batch * p.b.y;
  let ty = lid.y * ${s.tm}u;
  let tx = lid.x * ${s.tn}u;
  ${accs.map((a) => `var ${a} = vec4<f32>(0.0);`).join('\n  ')}

  for (var k0 = kBegin; k0 < kEnd; k0 += ${s.tk}u) {
    ${loadA(s)}
    ${loadB(s)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${s.tk}u; kk++) {
      ${fma.join('\n      ')}
    }
    workgroupBarrier();
  }

  let slab = split * p.ks.z + batch;
  ${stores.join('\n  ')}
}`;
}
