/**
 * A DM/RAAR partition (src/ptycho/partition.ts) hosted in a GPU worker process: the same methods
 * as DmPartition over the same plain typed arrays, each a call to the worker's
 * `ptycho.partition.*` services (ptycho-services.ts). A coordinator that drives DmPartitions
 * drives these unchanged; the worker computes exactly what an in-process partition would.
 * A worker that dies fails the pending call with a GpuError of kind 'device-lost'.
 */
import type { DmPartitionSpec } from '../../ptycho/partition.js';
import type { WorkerDevice } from './device.js';
import type { ApplyObjectNext, PartitionOpened } from './ptycho-services.js';

/** One partition in a worker process. Create with {@link RemoteDmPartition.create}. */
export class RemoteDmPartition {
  readonly index: number;
  readonly parts: number;
  /** Frames held here. */
  readonly n: number;
  /** Pixels packed for (and received from) the other devices per object reduction. */
  readonly overlapPixels: number;
  /** Floats of this device's probe partial sums. */
  readonly probeFloats: number;
  private destroyed = false;

  private constructor(
    /** The worker process holding the partition. */
    readonly device: WorkerDevice,
    private readonly handle: number,
    opened: PartitionOpened,
  ) {
    this.index = opened.index;
    this.parts = opened.parts;
    this.n = opened.n;
    this.overlapPixels = opened.overlapPixels;
    this.probeFloats = opened.probeFloats;
  }

  /**
   * The device holding the partition, under DmPartition's name for its context, so a coordinator
   * that reports `partition.ctx.info` reads either kind.
   */
  get ctx(): WorkerDevice {
    return this.device;
  }

  /** Sends the spec (frames, window, probe, overlaps) to the worker and sets the partition up there. */
  static async create(device: WorkerDevice, spec: DmPartitionSpec): Promise<RemoteDmPartition> {
    const opened = await device.call<PartitionOpened>('ptycho.partition.create', spec);
    return new RemoteDmPartition(device, opened.handle, opened);
  }

  beginIteration(snapshotObject: boolean): Promise<{ frameErrors: Float32Array; overlap: Float32Array }> {
    return this.device.call('ptycho.partition.beginIteration', { handle: this.handle, snapshotObject });
  }

  objectPartials(snapshotObject: boolean): Promise<Float32Array> {
    return this.device.call('ptycho.partition.objectPartials', { handle: this.handle, snapshotObject });
  }

  applyObject(imports: Float32Array, next: ApplyObjectNext): Promise<Float32Array | undefined> {
    return this.device.call('ptycho.partition.applyObject', { handle: this.handle, imports, next });
  }

  applyProbe(imports: Float32Array, deltaProbe: boolean): Promise<void> {
    return this.device.call('ptycho.partition.applyProbe', { handle: this.handle, imports, deltaProbe });
  }

  readObject(): Promise<Float32Array> {
    return this.device.call('ptycho.partition.readObject', { handle: this.handle });
  }

  readProbe(): Promise<Float32Array> {
    return this.device.call('ptycho.partition.readProbe', { handle: this.handle });
  }

  /** Releases the partition's buffers in the worker (the worker stays). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.device.alive) this.device.call('ptycho.partition.destroy', { handle: this.handle }).catch(() => undefined);
  }
}
