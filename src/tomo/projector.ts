/**
 * Joseph's parallel-beam projector pair on the GPU (shaders/tomo/joseph.wgsl and friends).
 *
 * ## The matrix
 * For slice `s`, angle θ, detector pixel `j` and voxel `(i, k)` of the same slice, with
 * `jf(i, k) = off + k·cos θ − i·sin θ` the continuous detector index of the voxel centre
 * (geometry.ts) and `m = max(|cos θ|, |sin θ|)`:
 *
 *     A[(θ, s, j), (s, i, k)] = hat((j − jf(i, k)) / m) / m,    hat(t) = max(0, 1 − |t|).
 *
 * Ray-driven (forward): a ray that is closer to the image columns (|cos θ| ≥ |sin θ|) is
 * stepped row by row; on row `i` it crosses the continuous column `k_ray(i) = K0 + j/cos θ +
 * i·tan θ`, the two neighbouring voxels get the linear-interpolation weights `1 − |k_ray − k|`,
 * and every step has length `1/|cos θ|`. Because `k_ray(i) − k = (j − jf(i, k))/cos θ`, these
 * are the matrix elements above; the other case swaps rows and columns (and cos with sin).
 * Voxel-driven (back): voxel `(i, k)` meets exactly the pixels with `|j − jf| < m` — at most two,
 * as `m ≤ 1` — with the same hat weights, so the back-projector gathers two pixels per angle and
 * is the exact transpose of the forward projector (no atomics).
 *
 * Kernels work on a slab: a volume `[slices, n, n]` and projection-shaped arrays
 * `[positions, slices, cols]`. Angles are taken through an `order` table, so any subset and any
 * order of angles (one angle, a block, a shuffled sweep) can be projected; a dispatch covers the
 * sweep positions `[t0, t0 + count)` and every slice at once (a 3-D grid, never a JS loop).
 */
import type { GpuContext } from '../gpu/context.js';
import { UniformWriter } from '../gpu/dispatch.js';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { angleTrig, checkProjectionShape, detectorOffset, type TomoGeometry } from './geometry.js';
import { copyRowsIn, copyRowsOut, planSlabs } from './slabs.js';

/** Floats per angle in the geometry table (struct AngleGeo in joseph.wgsl). */
export const ANGLE_GEO_FLOATS = 12;

/** Workgroup size of the projector kernels (x = detector pixel or image column, fastest in memory). */
export const PROJECTOR_WG = 64;

/** Lower clamp value meaning "no clamp" in the kernels. */
export const NO_CLAMP = -3.4e38;

/**
 * Per-angle projector constants (struct AngleGeo in joseph.wgsl), computed in float64:
 * cos, sin, m, 1/m, off, base, dbase, slope, col_mode. See joseph.wgsl for their meaning.
 */
export function angleGeoTable(geometry: TomoGeometry): ArrayBuffer {
  const na = geometry.anglesDeg.length;
  const buffer = new ArrayBuffer(na * ANGLE_GEO_FLOATS * 4);
  const f = new Float32Array(buffer);
  const u = new Uint32Array(buffer);
  const { cos, sin } = angleTrig(geometry);
  const h = geometry.n / 2 - 0.5;
  const u0 = 0.5 - geometry.center; // detector coordinate of pixel 0
  for (let a = 0; a < na; a++) {
    const c = cos[a];
    const s = sin[a];
    const m = Math.max(Math.abs(c), Math.abs(s));
    const o = a * ANGLE_GEO_FLOATS;
    f[o] = c;
    f[o + 1] = s;
    f[o + 2] = m;
    f[o + 3] = 1 / m;
    f[o + 4] = detectorOffset(geometry, c, s);
    if (Math.abs(c) >= Math.abs(s)) {
      // step over rows i: column k_ray(i) = h + (u_j − (h − i)·s)/c
      f[o + 5] = h + (u0 - h * s) / c;
      f[o + 6] = 1 / c;
      f[o + 7] = s / c;
      u[o + 8] = 0;
    } else {
      // step over columns k: row i_ray(k) = h − (u_j − (k − h)·c)/s
      f[o + 5] = h - (u0 + h * c) / s;
      f[o + 6] = -1 / s;
      f[o + 7] = c / s;
      u[o + 8] = 1;
    }
  }
  return buffer;
}

/** Per-dispatch parameters (struct Params in joseph.wgsl). */
export interface ProjectorParams {
  n: number;
  cols: number;
  slices: number;
  /** Sweep positions in this dispatch. */
  count: number;
  /** First sweep position. */
  t0: number;
  /** Total number of angles. */
  angles: number;
  relax?: number;
  /** Lower clamp of updated volumes; default none. */
  lo?: number;
  /** Angles per block of the block-iterative sweep (sweep_packed.wgsl); default 1. */
  block?: number;
  /** Angle within the block, for the band-walk sweep's per-angle update (sweep_packed.wgsl); default 0. */
  sub?: number;
  /** First slice group of a band-walk sweep dispatch (sweep_packed.wgsl); default 0. */
  group0?: number;
}

/** Bytes of the Params struct (shaders/tomo/joseph.wgsl). */
export const PROJECTOR_PARAMS_BYTES = 48;

/** Packs {@link ProjectorParams} into the uniform layout. */
export function projectorParams(p: ProjectorParams): ArrayBuffer {
  return new UniformWriter(PROJECTOR_PARAMS_BYTES / 4)
    .u32(p.n)
    .u32(p.cols)
    .u32(p.slices)
    .u32(p.count)
    .u32(p.t0)
    .u32(p.angles)
    .f32(p.relax ?? 1)
    .f32(p.lo === undefined || p.lo === -Infinity ? NO_CLAMP : p.lo)
    .u32(p.block ?? 1)
    .u32(p.sub ?? 0)
    .u32(p.group0 ?? 0)
    .u32(0).buffer;
}

/** Validates a list of angle indices against a geometry; returns it as a Uint32Array. */
export function angleOrder(geometry: TomoGeometry, angles?: ArrayLike<number>): Uint32Array {
  const na = geometry.anglesDeg.length;
  if (!angles) return Uint32Array.from({ length: na }, (_, i) => i);
  if (angles.length === 0) throw new InputError('the angle subset is empty');
  const out = new Uint32Array(angles.length);
  for (let i = 0; i < angles.length; i++) {
    const a = angles[i];
    if (!Number.isInteger(a) || a < 0 || a >= na) throw new InputError(`angle index ${a} is outside 0..${na - 1}`);
    out[i] = a;
  }
  return out;
}

/**
 * GPU state shared by every projector kernel of one slab geometry: the angle table and the
 * pipelines. Create once per slab; bind groups and uniforms are built by the caller once, outside
 * iteration loops, with the `bind*` helpers, then recorded with the `encode*` helpers.
 */
export class SlabProjector {
  readonly geometry: TomoGeometry;
  /** Slices in the slab. */
  readonly slices: number;
  /** The per-angle AngleGeo table. */
  readonly geo: GPUBuffer;
  private readonly maxGroups: number;

  constructor(readonly ctx: GpuContext, geometry: TomoGeometry, slices = geometry.rows) {
    this.geometry = geometry;
    this.slices = slices;
    this.geo = ctx.upload(new Uint8Array(angleGeoTable(geometry)), 'tomo angle table');
    this.maxGroups = ctx.device.limits.maxComputeWorkgroupsPerDimension;
    if (slices > this.maxGroups) throw new InputError(`a slab of ${slices} slices exceeds the dispatch limit of ${this.maxGroups}`);
  }

  /** A uniform buffer for sweep positions `[t0, t0 + count)` (owned by the caller). */
  params(t0: number, count: number, extra: { relax?: number; lo?: number; block?: number; sub?: number; group0?: number } = {}): GPUBuffer {
    const g = this.geometry;
    if (count > this.maxGroups) throw new InputError(`a block of ${count} angles exceeds the dispatch limit of ${this.maxGroups}`);
    return this.ctx.uniform(projectorParams({ n: g.n, cols: g.cols, slices: this.slices, count, t0, angles: g.anglesDeg.length, ...extra }), 'tomo projector params');
  }

  private pipeline(shader: string, entry: string, constants: Record<string, number> = {}): GPUComputePipeline {
    return this.ctx.pipelines.get({ shader, entry, constants: { WG: PROJECTOR_WG, ...constants } });
  }

  /** Bind group for {@link encodeProject}: out[t] = A_order[t] vol. */
  bindProject(params: GPUBuffer, order: GPUBuffer, vol: GPUBuffer, out: GPUBuffer): GPUBindGroup {
    return this.ctx.bind(this.pipeline('tomo/project.wgsl', 'project'), [params, this.geo, order, vol, out], 'tomo project');
  }

  /** Bind group for {@link encodeBackproject}: out = Σ_t A_order[t]ᵀ sino[t]. */
  bindBackproject(params: GPUBuffer, order: GPUBuffer, sino: GPUBuffer, out: GPUBuffer): GPUBindGroup {
    return this.ctx.bind(this.pipeline('tomo/backproject.wgsl', 'backproject'), [params, this.geo, order, sino, out], 'tomo backproject');
  }

  /** Bind group for {@link encodeRowWeights} (mode: 0 Σw, 1 Σw², 2 1/Σw, 3 1/Σw²). */
  bindRowWeights(mode: 0 | 1 | 2 | 3, params: GPUBuffer, order: GPUBuffer, out: GPUBuffer): GPUBindGroup {
    return this.ctx.bind(this.pipeline('tomo/rows.wgsl', 'row_weights', { MODE: mode }), [params, this.geo, order, out], 'tomo row weights');
  }

  /** Bind group for {@link encodeColumnScale}: `members` lists each block's angles (colsum.wgsl). */
  bindColumnScale(params: GPUBuffer, members: GPUBuffer, out: GPUBuffer): GPUBindGroup {
    return this.ctx.bind(this.pipeline('tomo/colsum.wgsl', 'column_scale'), [params, this.geo, members, out], 'tomo column scale');
  }

  private rayGrid(count: number): [number, number, number] {
    return [Math.ceil(this.geometry.cols / PROJECTOR_WG), this.slices, count];
  }

  private voxelGrid(): [number, number, number] {
    return [Math.ceil(this.geometry.n / PROJECTOR_WG), this.geometry.n, this.slices];
  }

  /** Records a forward projection of `count` sweep positions. */
  encodeProject(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, count: number): void {
    pass.setPipeline(this.pipeline('tomo/project.wgsl', 'project'));
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...this.rayGrid(count));
  }

  /** Records a back-projection (all voxels of the slab; the angle count is in the params). */
  encodeBackproject(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.pipeline('tomo/backproject.wgsl', 'backproject'));
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...this.voxelGrid());
  }

  /** Records the row-weight table computation for `count` sweep positions. */
  encodeRowWeights(pass: GPUComputePassEncoder, mode: 0 | 1 | 2 | 3, bindGroup: GPUBindGroup, count: number): void {
    pass.setPipeline(this.pipeline('tomo/rows.wgsl', 'row_weights', { MODE: mode }));
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.geometry.cols / PROJECTOR_WG), 1, count);
  }

  /** Records the inverse column sums of `blocks` angle blocks (one n × n image per block). */
  encodeColumnScale(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, blocks: number): void {
    pass.setPipeline(this.pipeline('tomo/colsum.wgsl', 'column_scale'));
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.geometry.n / PROJECTOR_WG), this.geometry.n, blocks);
  }

  /** Releases the angle table. */
  destroy(): void {
    this.geo.destroy();
  }
}

/** Options of the host-level projector functions. */
export interface ProjectOptions {
  /** Angle indices to project (any subset, any order); default all, in order. */
  angles?: ArrayLike<number>;
  /** Largest storage binding to use (bytes); default `ctx.maxBinding`. Smaller values force slabs. */
  maxBindingBytes?: number;
}

/**
 * Forward-projects a volume `[rows, n, n]`: returns projections `[angles.length, rows, cols]`
 * (the chosen angles, in the given order). Chunked along the rotation axis when the arrays exceed
 * one storage binding.
 */
export async function forwardProject(ctx: GpuContext, volume: Volume, geometry: TomoGeometry, options: ProjectOptions = {}): Promise<Volume> {
  const { rows, cols, n } = geometry;
  if (volume.shape[0] !== rows || volume.shape[1] !== n || volume.shape[2] !== n) {
    throw new InputError(`volume shape [${volume.shape.join(', ')}] does not match the geometry's [${rows}, ${n}, ${n}]`);
  }
  const order = angleOrder(geometry, options.angles);
  const na = order.length;
  const out = new Float32Array(na * rows * cols);
  const limit = options.maxBindingBytes ?? ctx.maxBinding;
  const orderBuf = ctx.upload(order, 'tomo order');
  try {
    for (const [r0, r1] of planSlabs(rows, Math.max(n * n, na * cols) * 4, limit)) {
      const s = r1 - r0;
      const proj = new SlabProjector(ctx, geometry, s);
      const vol = ctx.upload(volume.data.subarray(r0 * n * n, r1 * n * n), 'tomo volume slab');
      const sino = ctx.createStorage(na * s * cols * 4, 'tomo projections slab');
      ctx.fill(sino);
      const params = proj.params(0, na);
      try {
        const bg = proj.bindProject(params, orderBuf, vol, sino);
        await ctx.runPass('tomo project', (pass) => proj.encodeProject(pass, bg, na), 'forward projection');
        copyRowsIn(out, await ctx.readF32(sino, na * s * cols), na, rows, cols, r0, r1);
      } finally {
        for (const b of [vol, sino, params]) b.destroy();
        proj.destroy();
      }
    }
  } finally {
    orderBuf.destroy();
  }
  return { data: out, shape: [na, rows, cols] };
}

/**
 * Back-projects projections `[angles.length, rows, cols]` (the chosen angles, in the given order)
 * into a volume `[rows, n, n]` with the exact transpose of {@link forwardProject}.
 */
export async function backProject(ctx: GpuContext, projections: Volume, geometry: TomoGeometry, options: ProjectOptions = {}): Promise<Volume> {
  const { rows, cols, n } = geometry;
  const order = angleOrder(geometry, options.angles);
  const na = order.length;
  if (options.angles) {
    if (projections.shape[0] !== na || projections.shape[1] !== rows || projections.shape[2] !== cols) {
      throw new InputError(`projections shape [${projections.shape.join(', ')}] does not match [${na}, ${rows}, ${cols}] (chosen angles, rows, cols)`);
    }
  } else checkProjectionShape(geometry, projections.shape);
  const out = new Float32Array(rows * n * n);
  const limit = options.maxBindingBytes ?? ctx.maxBinding;
  const orderBuf = ctx.upload(order, 'tomo order');
  try {
    for (const [r0, r1] of planSlabs(rows, Math.max(n * n, na * cols) * 4, limit)) {
      const s = r1 - r0;
      const proj = new SlabProjector(ctx, geometry, s);
      const sino = ctx.upload(copyRowsOut(projections.data, na, rows, cols, r0, r1), 'tomo projections slab');
      const vol = ctx.createStorage(s * n * n * 4, 'tomo volume slab');
      ctx.fill(vol);
      const params = proj.params(0, na);
      try {
        const bg = proj.bindBackproject(params, orderBuf, sino, vol);
        await ctx.runPass('tomo backproject', (pass) => proj.encodeBackproject(pass, bg), 'back-projection');
        out.set(await ctx.readF32(vol, s * n * n), r0 * n * n);
      } finally {
        for (const b of [vol, sino, params]) b.destroy();
        proj.destroy();
      }
    }
  } finally {
    orderBuf.destroy();
  }
  return { data: out, shape: [rows, n, n] };
}

/**
 * Row weights of the projector for every (angle, pixel): `[angles, cols]` of Σw (`'sum'`) or
 * Σw² (`'norm2'`). They do not depend on the slice.
 */
export async function rowWeights(ctx: GpuContext, geometry: TomoGeometry, kind: 'sum' | 'norm2'): Promise<Float32Array> {
  const na = geometry.anglesDeg.length;
  const proj = new SlabProjector(ctx, geometry, 1);
  const order = ctx.upload(angleOrder(geometry), 'tomo order');
  const out = ctx.createStorage(na * geometry.cols * 4, 'tomo row weights');
  ctx.fill(out);
  const params = proj.params(0, na);
  try {
    const mode = kind === 'sum' ? 0 : 1;
    const bg = proj.bindRowWeights(mode, params, order, out);
    await ctx.runPass('tomo row weights', (pass) => proj.encodeRowWeights(pass, mode, bg, na), 'row weights');
    return await ctx.readF32(out, na * geometry.cols);
  } finally {
    for (const b of [order, out, params]) b.destroy();
    proj.destroy();
  }
}
