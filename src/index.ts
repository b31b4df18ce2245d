/**
 * webrecon's public API: re-exports only. Everything a user of the CLI can do is available here
 * as typed functions that take and return plain typed arrays with their shapes.
 *
 * ```ts
 * import { GpuContext, loadProjections, readAngles, reconstructTomo, writeVolume } from 'webrecon';
 * const ctx = await GpuContext.acquire();
 * const input = await loadProjections(['scan/projections'], { flat: 'scan/flat.tif', dark: 'scan/dark.tif' });
 * const angles = await readAngles('scan/angles.txt', input.projections.shape[0]);
 * const { volume } = await reconstructTomo(ctx, input.projections, { algorithm: 'sirt', anglesDeg: angles, flat: input.flat, dark: input.dark, center: 'auto', iterations: 50 });
 * await writeVolume('volume.tif', volume);
 * ctx.destroy();
 * ```
 */

// core values and errors
export type { RealArray, Volume, ComplexArray } from './core/array.js';
export { WebreconError, InputError, GpuError } from './core/errors.js';
export type { GpuErrorKind } from './core/errors.js';
export type { ProgressEvent, ProgressCallback } from './core/progress.js';

// GPU runtime
export { GpuContext, listAdapters } from './gpu/context.js';
export type { GpuOptions, BackendName, AdapterDescription } from './gpu/context.js';
export { KernelTimer } from './gpu/timing.js';
export type { KernelTimes } from './gpu/timing.js';
export { acquireDevices, parseDevices, parseDeviceEnv, isWorkerDevice, deviceInfo, destroyDevices, closeDevices, WorkerDevice } from './gpu/pool.js';
export type { PoolDevice, DevicePoolOptions, WorkerSpec } from './gpu/pool.js';

// I/O
export { readTiff, readTiffFiles, writeTiff, tiffInfo } from './io/tiff.js';
export { readNpy, writeNpy } from './io/npy.js';
export { readMrc, writeMrc } from './io/mrc.js';
export { readVti, writeVti } from './io/vti.js';
export { readVolume, writeVolume, VOLUME_WRITE_EXTENSIONS } from './io/volume.js';
export type { WriteVolumeOptions } from './io/volume.js';
export { readAngles, linspaceAngles } from './io/angles.js';
export { writeOrthoPreview, writeImagePng } from './io/preview.js';
export { writeFileAtomic } from './io/atomic.js';
export { writeHdf5Atomic } from './io/hdf5.js';
export type { Hdf5Writer, Hdf5WriteValue } from './io/hdf5.js';

// tomography
export { loadProjections } from './tomo/input.js';
export type { ProjectionInput } from './tomo/input.js';
export { makeGeometry, volumeShape, projectionShape } from './tomo/geometry.js';
export type { TomoGeometry, GeometryOptions } from './tomo/geometry.js';
export { preprocessProjections } from './tomo/preprocess.js';
export type { PreprocessOptions, PreprocessResult } from './tomo/preprocess.js';
export { findCenter } from './tomo/center.js';
export type { CenterResult, FindCenterOptions } from './tomo/center.js';
export { forwardProject, backProject } from './tomo/projector.js';
export type { ProjectOptions } from './tomo/projector.js';
export { reconstructIterative, ITERATIVE_ALGORITHMS } from './tomo/iterative.js';
export type { IterativeAlgorithm, IterativeOptions, IterativeResult } from './tomo/iterative.js';
export { reconstructFbp } from './tomo/fbp.js';
export type { FbpOptions, FbpResult } from './tomo/fbp.js';
export { FILTER_NAMES } from './tomo/filters.js';
export type { FilterName } from './tomo/filters.js';
export { reconstructTomo, TOMO_ALGORITHMS } from './tomo/recon.js';
export type { TomoAlgorithm, TomoReconOptions, TomoReconResult } from './tomo/recon.js';
export { simulateTiltSeries } from './tomo/simulate.js';
export type { SimulateOptions, Simulation } from './tomo/simulate.js';
export { sheppLogan3d, voxelizePhantom, PHANTOM_NAMES } from './tomo/phantom.js';
export type { Ellipsoid } from './tomo/phantom.js';
export { relativeError, relativeL2 } from './tomo/metrics.js';

// ptycho
export { reconstructPtycho } from './ptycho/recon.js';
export type { PtychoAlgorithm, PtychoReconOptions, PtychoResult } from './ptycho/recon.js';
export { DmEngine, dmCoefficients, initialProbeModes } from './ptycho/engine.js';
export type { DmEngineOptions, DmVariant, DmCoefficients } from './ptycho/engine.js';
export { DistributedDm, runDistributedDm, scanPartitions } from './ptycho/distributed.js';
export type { DistributedDmOptions, DistributedRun, PartitionLayout, ReductionBytes } from './ptycho/distributed.js';
export { DmPartition } from './ptycho/partition.js';
export type { DmPartitionSpec } from './ptycho/partition.js';
export { EpieEngine } from './ptycho/epie.js';
export type { EpieEngineOptions } from './ptycho/epie.js';
export { loadPtycho, loadNpyFolder, loadCxi, loadTiffScan, cropDataset, shiftFrames } from './ptycho/load.js';
export type { LoadOptions as PtychoLoadOptions, PositionTransform } from './ptycho/load.js';
export { validateDataset, meanFrameSum } from './ptycho/dataset.js';
export type { PtychoDataset } from './ptycho/dataset.js';
export { scanGeometry, tileFrameLists } from './ptycho/scan.js';
export type { ScanGeometry } from './ptycho/scan.js';
export { writePtychoResult, writePtychoCxi, ptychoMetrics, CXI_VERSION } from './ptycho/output.js';
export type { CxiMetadata } from './ptycho/output.js';
export { simulatePtycho, writeSimulation, phantomObject, defocusedPinhole, fermatSpiral } from './ptycho/simulate.js';
export type { SimulateOptions as PtychoSimulateOptions, SimulatedScan } from './ptycho/simulate.js';
export { objectError, probeError, illuminatedRegion, fourierShift, loadTruth, checkTruthShape, truthMetrics } from './ptycho/metrics.js';
export type { ObjectErrorResult, ObjectErrorOptions, PtychoTruth, TruthMetrics } from './ptycho/metrics.js';
export { probeGuess } from './ptycho/probe.js';
export type { ProbeGuessKind } from './ptycho/probe.js';
export { Fft2dPlan, fft2d } from './fft/plan.js';
export type { FftDirection, Fft2dOptions } from './fft/plan.js';
