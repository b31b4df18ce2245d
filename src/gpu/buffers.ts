/**
 * A bucketed buffer pool: buffers are rounded up to a power of two and kept by (usage, size)
 * so staging and scratch buffers are reused rather than allocated in hot loops.
 */

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly all = new Set<GPUBuffer>();

  constructor(private readonly device: GPUDevice) {}

  private static bucket(size: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, size))));
  }

  /** A buffer of at least `size` bytes with exactly this usage; release it when done. */
  acquire(size: number, usage: GPUBufferUsageFlags, label = 'pooled'): GPUBuffer {
    const bucket = BufferPool.bucket(size);
    const key = `${usage}:${bucket}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    if (reused) return reused;
    const buffer = this.device.createBuffer({ size: bucket, usage, label: `${label} (pool ${bucket} B)` });
    this.all.add(buffer);
    return buffer;
  }

  /** Returns a buffer to the pool. */
  release(buffer: GPUBuffer): void {
    if (!this.all.has(buffer)) return;
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.free.get(key) ?? [];
    list.push(buffer);
    this.free.set(key, list);
  }

  /** Total bytes the pool holds. */
  get bytes(): number {
    let n = 0;
    for (const b of this.all) n += b.size;
    return n;
  }

  /** Destroys every pooled buffer. */
  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.clear();
  }
}
