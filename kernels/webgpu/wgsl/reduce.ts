// Reductions over the trailing axes of a strided view. Two shapes of kernel:
// 'tree' gives each output a workgroup whose 256 threads stride over the
// reduced elements and halve in shared memory (long rows); 'rows' gives each
// output one thread that loops (short rows, where a 256-thread workgroup per
// output would mostly idle — very costly on CPU drivers).
export const REDUCE_UNIFORM_BYTES = 96; // 24 u32: hdr, inner, shape[8], strides[8] (rank ≤ 6)

export type ReduceShape = 'tree' | 'rows';

export function reduceShapeFor(outer: number, inner: number): ReduceShape {
  // A tree only pays when there are too few outputs to keep threads busy.
  return inner <= 512 || (outer >= 32 && inner <= 8192) ? 'rows' : 'tree';
}

function header(op: 'sum' | 'max'): { identity: string; combine: (a: string, b: string) => string } {
  return {
    identity: op === 'sum' ? '0.0' : '-3.4028234663852886e38',
    combine: (a, b) => (op === 'sum' ? `${a} + ${b}` : `max(${a}, ${b})`),
  };
}

const COMMON = /* wgsl */ `
struct P {
  hdr: vec4<u32>,    // outer count, rank, reduced rank, offset
  inner: vec4<u32>,  // inner count
  shape: array<vec4<u32>, 2>,
  st: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn dim(i: u32) -> u32 { return p.shape[i / 4u][i % 4u]; }
fn stride(i: u32) -> u32 { return p.st[i / 4u][i % 4u]; }

fn row_base(row: u32) -> u32 {
  let kept = p.hdr.y - p.hdr.z;
  var base = p.hdr.w;
  var rem = row;
  for (var k = 0u; k < kept; k++) {
    let d = kept - 1u - k;
    base += (rem % dim(d)) * stride(d);
    rem = rem / dim(d);
  }
  return base;
}

fn inner_offset(j: u32) -> u32 {
  var r = j;
  var at = 0u;
  for (var k = 0u; k < p.hdr.z; k++) {
    let d = p.hdr.y - 1u - k;
    at += (r % dim(d)) * stride(d);
    r = r / dim(d);
  }
  return at;
}`;

export function reduceKernel(op: 'sum' | 'max', shape: ReduceShape): string {
  const { identity, combine } = header(op);
  if (shape === 'rows') {
    return /* wgsl */ `${COMMON}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.hdr.x) { return; }
  let base = row_base(row);
  var acc = ${identity};
  for (var j = 0u; j < p.inner.x; j++) { acc = ${combine('acc', 'x[base + inner_offset(j)]')}; }
  out[row] = acc;
}`;
  }
  return /* wgsl */ `${COMMON}
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * nwg.x;
  var acc = ${identity};
  if (row < p.hdr.x) {
    let base = row_base(row);
    for (var j = lid; j < p.inner.x; j += 256u) { acc = ${combine('acc', 'x[base + inner_offset(j)]')}; }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half >> 1u) {
    if (lid < half) { partial[lid] = ${combine('partial[lid]', 'partial[lid + half]')}; }
    workgroupBarrier();
  }
  if (lid == 0u && row < p.hdr.x) { out[row] = partial[0]; }
}`;
}
