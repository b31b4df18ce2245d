/**
 * Ptychography partitions (src/ptycho/partition.ts) hosted in worker processes
 * (src/gpu/worker/ptycho-*.ts): the distributed DM/RAAR coordinator (src/ptycho/distributed.ts)
 * driving partitions in 1 or 2 worker processes gives bit for bit what it gives with the same
 * number of in-process devices, and a worker killed mid-run restarts the run on the device left.
 *
 * The coordinator creates its partitions with DmPartition.create(context, spec); here that one
 * call is redirected to RemoteDmPartition.create(worker, spec) for the worker devices, which is
 * all the coordinator needs to run on a pool with worker processes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt } from '../cli/cli.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { acquireDevices, closeDevices, isWorkerDevice, type PoolDevice } from '../../src/gpu/pool.js';
import type { WorkerDevice } from '../../src/gpu/worker/device.js';
import { RemoteDmPartition } from '../../src/gpu/worker/ptycho-client.js';
import { DmPartition } from '../../src/ptycho/partition.js';
import { runDistributedDm } from '../../src/ptycho/distributed.js';
import { simulatePtycho } from '../../src/ptycho/simulate.js';
import { relL2 } from '../helpers/gpu.js';

const opened: PoolDevice[] = [];
afterAll(() => closeDevices(opened));
afterEach(() => vi.restoreAllMocks());

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** Routes DmPartition.create to a worker when the "context" is a worker device. */
function hostPartitionsInWorkers(): void {
  const create = DmPartition.create.bind(DmPartition);
  vi.spyOn(DmPartition, 'create').mockImplementation(async (ctx, spec) =>
    isWorkerDevice(ctx as unknown as PoolDevice) ? (RemoteDmPartition.create(ctx as unknown as WorkerDevice, spec) as unknown as Promise<DmPartition>) : create(ctx, spec),
  );
}

describe('DM partitions in worker processes', () => {
  const sim = simulatePtycho({ frame: 32, positions: 36, photons: 1e5, seed: 5 });
  const opts = { variant: 'dm' as const, iterations: 3, probeStart: 1 };
  let local: GpuContext[];
  let workers: PoolDevice[];

  beforeAll(async () => {
    ensureBuilt();
    local = (await acquireDevices({ devices: 2 })) as GpuContext[];
    workers = await acquireDevices({ devices: 2, processPerDevice: true });
    opened.push(...local, ...workers);
  });

  it('1 and 2 worker processes give the object, probe and errors of 1 and 2 in-process devices bit for bit', async () => {
    hostPartitionsInWorkers();
    const objects: Float32Array[] = [];
    for (const parts of [1, 2]) {
      const inProcess = await runDistributedDm(local.slice(0, parts), sim.dataset, opts);
      const remote = await runDistributedDm(workers.slice(0, parts) as unknown as GpuContext[], sim.dataset, opts);
      expect(remote.devices).toBe(parts);
      expect(same(remote.object.data, inProcess.object.data), `${parts} devices`).toBe(true);
      expect(same(remote.probe.data, inProcess.probe.data), `${parts} devices`).toBe(true);
      expect(remote.errors).toEqual(inProcess.errors);
      expect(remote.reductionBytesPerIteration).toBe(inProcess.reductionBytesPerIteration);
      objects.push(remote.object.data);
    }
    // 1 vs 2 worker processes: the split changes only the order of float32 sums (see test/ptycho/devices.test.ts).
    const diff = relL2(objects[1], objects[0]);
    console.log(`DM, 1 vs 2 worker processes after ${opts.iterations} iterations: relative L2 ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    expect(vi.mocked(DmPartition.create).mock.calls.length).toBe(6);
  });

  it('a worker killed mid-run: the run restarts on the device left, as with a lost in-process device', async () => {
    hostPartitionsInWorkers();
    const reference = await runDistributedDm([local[0]], sim.dataset, opts);
    const [victim] = (await acquireDevices({ workers: [{}] })) as WorkerDevice[];
    opened.push(victim);
    let killed = false;
    const r = await runDistributedDm([local[0], victim as unknown as GpuContext], sim.dataset, {
      ...opts,
      onProgress: (e) => {
        if (e.iteration === 1 && !killed) {
          killed = true;
          victim.kill();
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.devices).toBe(1);
    expect(r.droppedDevices.length).toBe(1);
    expect(same(r.object.data, reference.object.data)).toBe(true);
    expect(r.errors).toEqual(reference.errors);
  });
});
