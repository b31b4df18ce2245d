/**
 * Ptychography services of a GPU worker process: one DM/RAAR partition
 * (src/ptycho/partition.ts) per handle, driven call by call by the parent's coordinator
 * (src/ptycho/distributed.ts) through {@link RemoteDmPartition} (ptycho-client.ts). The partition's
 * inputs and outputs are plain typed arrays, so it runs here unchanged: same kernels, same sums.
 */
import type { GpuContext } from '../context.js';
import { DmPartition, type DmPartitionSpec } from '../../ptycho/partition.js';
import type { ServiceTable } from './services.js';

/** Reply of `ptycho.partition.create`: the handle and the partition's sizes. */
export interface PartitionOpened {
  handle: number;
  index: number;
  parts: number;
  n: number;
  overlapPixels: number;
  probeFloats: number;
}

/** Arguments of DmPartition.applyObject. */
export interface ApplyObjectNext {
  deltaObject: boolean;
  probe?: { fused: boolean; snapshotProbe: boolean };
}

const partitions = new Map<number, DmPartition>();
let nextHandle = 1;

function get(handle: number): DmPartition {
  const p = partitions.get(handle);
  if (!p) throw new Error(`no open ptychography partition ${handle}`);
  return p;
}

export const ptychoServices: ServiceTable = {
  'ptycho.partition.create': async (ctx: GpuContext, spec: DmPartitionSpec): Promise<PartitionOpened> => {
    const p = await DmPartition.create(ctx, spec);
    const handle = nextHandle++;
    partitions.set(handle, p);
    return { handle, index: p.index, parts: p.parts, n: p.n, overlapPixels: p.overlapPixels, probeFloats: p.probeFloats };
  },
  'ptycho.partition.beginIteration': async (_ctx: GpuContext, req: { handle: number; snapshotObject: boolean }) => get(req.handle).beginIteration(req.snapshotObject),
  'ptycho.partition.objectPartials': async (_ctx: GpuContext, req: { handle: number; snapshotObject: boolean }) => get(req.handle).objectPartials(req.snapshotObject),
  'ptycho.partition.applyObject': async (_ctx: GpuContext, req: { handle: number; imports: Float32Array; next: ApplyObjectNext }) => get(req.handle).applyObject(req.imports, req.next),
  'ptycho.partition.applyProbe': async (_ctx: GpuContext, req: { handle: number; imports: Float32Array; deltaProbe: boolean }) => get(req.handle).applyProbe(req.imports, req.deltaProbe),
  'ptycho.partition.readObject': async (_ctx: GpuContext, req: { handle: number }) => get(req.handle).readObject(),
  'ptycho.partition.readProbe': async (_ctx: GpuContext, req: { handle: number }) => get(req.handle).readProbe(),
  'ptycho.partition.destroy': async (_ctx: GpuContext, req: { handle: number }): Promise<void> => {
    partitions.get(req.handle)?.destroy();
    partitions.delete(req.handle);
  },
};
