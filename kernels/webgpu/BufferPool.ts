// Storage buffers recycled by size class, so a training loop that makes the
// same tensors every step stops creating buffers after its first step.

// Four classes per power of two: at most 19% slack per buffer. Sizes are
// multiples of 16 bytes so a buffer can be read as array<vec4<f32>> to its end.
export function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 16);
  const p = 2 ** Math.floor(Math.log2(b));
  const step = Math.max(p / 4, 16);
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, Set<GPUBuffer>>();
  /** The buffers handed out this round, in order, and last round's (see round()). */
  private served: GPUBuffer[] = [];
  private previous: GPUBuffer[] = [];
  allocatedBytes = 0;
  inUseBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    // The buffer the same request got last round, when it is free: a loop
    // that repeats its allocations then binds the same buffers every round,
    // and its bind groups can be reused (WebGpuBackend.bindGroup).
    const wanted = this.previous[this.served.length];
    let buffer = wanted && list?.has(wanted) ? wanted : list?.values().next().value;
    if (buffer) list!.delete(buffer);
    else {
      buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      this.allocatedBytes += size;
    }
    this.served.push(buffer);
    this.inUseBytes += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.inUseBytes -= buffer.size;
    let list = this.free.get(buffer.size);
    if (!list) this.free.set(buffer.size, (list = new Set()));
    list.add(buffer);
  }

  /** Ends a round (a training step: the backend calls this at each wait); the next one is served like this one where it can be. */
  round(): void {
    this.previous = this.served;
    this.served = [];
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.served = [];
    this.previous = [];
    this.allocatedBytes = 0;
  }
}
