// Row reduction with a workgroup tree: one workgroup per output element; its
// 256 threads stride over the reduced axes, then halve in shared memory.
export const REDUCE_UNIFORM_BYTES = 80;

export function reduceKernel(op: 'sum' | 'max'): string {
  const identity = op === 'sum' ? '0.0' : '-3.4028234663852886e38';
  const combine = (a: string, b: string) => (op === 'sum' ? `${a} + ${b}` : `max(${a}, ${b})`);
  return /* wgsl */ `
struct P {
  hdr: vec4<u32>,   // outer count, rank, reduced rank, offset
  inner: vec4<u32>,  // inner count
  shape: array<vec4<u32>, 2>,
  st: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> partial: array<f32, 256>;

fn dim(i: u32) -> u32 { return p.shape[i / 4u][i % 4u]; }
fn stride(i: u32) -> u32 { return p.st[i / 4u][i % 4u]; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * nwg.x;
  let rank = p.hdr.y;
  let kept = rank - p.hdr.z;
  var base = p.hdr.w;
  var rem = row;
  for (var k = 0u; k < kept; k++) {
    let d = kept - 1u - k;
    base += (rem % dim(d)) * stride(d);
    rem = rem / dim(d);
  }
  var acc = ${identity};
  if (row < p.hdr.x) {
    for (var j = lid; j < p.inner.x; j += 256u) {
      var r = j;
      var at = base;
      for (var k = 0u; k < p.hdr.z; k++) {
        let d = rank - 1u - k;
        at += (r % dim(d)) * stride(d);
        r = r / dim(d);
      }
      acc = ${combine('acc', 'x[at]')};
    }
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
