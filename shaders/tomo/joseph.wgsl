// Joseph's parallel-beam projector: the geometry shared by the forward (ray-driven) and the
// back (voxel-driven) kernels, so both implement the same matrix A (see src/tomo/geometry.ts
// for the coordinate conventions and src/tomo/projector.ts for the derivation).
//
// Matrix element for detector pixel j, voxel (i, k) of the same slice, angle θ:
//   A = hat((j − jf(i, k)) / m) / m,   jf = off + k·cos θ − i·sin θ,   m = max(|cos θ|, |sin θ|)
// where jf is the continuous detector index of the voxel centre and hat(t) = max(0, 1 − |t|).
// The ray-driven form steps along the ray's principal axis (image rows when |cos θ| ≥ |sin θ|,
// image columns otherwise), interpolates linearly across the other axis and multiplies by the
// step length 1/m: the same numbers, evaluated per ray instead of per voxel.
//
// A file including this one declares, at module scope:
//   `p: Params` (uniform). ray_sum.wgsl adds the line integral over a module-scope `vol`.

//#include "common/intconv.wgsl"

// Per-dispatch parameters (all kernels of the tomo projector family share this layout).
struct Params {
  n: u32,        // slice size N (the volume slab is [slices, N, N])
  cols: u32,     // detector columns C
  slices: u32,   // slices in the slab (= detector rows of the slab)
  count: u32,    // sweep positions handled by this dispatch
  t0: u32,       // first sweep position: angles are order[t0 .. t0 + count)
  angles: u32,   // total number of angles (rows of the data array b)
  relax: f32,    // relaxation factor (fused residual and sweep kernels)
  lo: f32,       // lower clamp of the updated volume (-3.4e38 for none)
  block: u32,    // angles per block of the block-iterative sweep (sweep.wgsl)
  sub: u32,      // angle within the block (per-angle stages of the band-walk sweep)
  group0: u32,   // first slice group of the dispatch (band-walk sweep stages)
  pad2: u32,
}

// Per-angle projector constants, precomputed in float64 on the host (src/tomo/projector.ts).
struct AngleGeo {
  c: f32,        // cos θ
  s: f32,        // sin θ
  m: f32,        // max(|cos θ|, |sin θ|)
  inv_m: f32,    // 1 / m: the step length along the ray
  off: f32,      // continuous detector index of voxel (0, 0): jf = off + k·c − i·s
  base: f32,     // ray j=0 at step t=0: position across the principal axis
  dbase: f32,    // change of that position per detector pixel
  slope: f32,    // change of that position per step along the principal axis (|slope| ≤ 1)
  col_mode: u32, // 0: step over image rows (position = column); 1: step over columns (position = row)
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

// First and last principal-axis step a ray can meet the grid on (inclusive; may be empty: lo > hi).
// Positions in (−1, n) can give weight; the range is widened by one step and each step still checks.
fn ray_step_range(pos0: f32, slope: f32, n: i32) -> vec2i {
  let nf = f32(n);
  if (abs(slope) < 1e-7) {
    if (pos0 <= -1.0 || pos0 >= nf) { return vec2i(1, 0); }
    return vec2i(0, n - 1);
  }
  let ta = (-1.0 - pos0) / slope;
  let tb = (nf - pos0) / slope;
  let lo = max(0, i32(floor(min(ta, tb))));
  let hi = min(n - 1, i32(ceil(max(ta, tb))));
  return vec2i(lo, hi);
}

// One step t of ray j's walk along its principal axis: the two voxels it interpolates between
// (offsets within a slice, clamped so they are always addressable) and their weights (zero for a
// voxel outside the grid). Rows mode: voxel (i = t, k = q); columns mode: voxel (i = q, k = t).
struct RayStep {
  o0: u32,
  o1: u32,
  w: vec2f,
}

fn ray_step(g: AngleGeo, pos0: f32, t: i32, n: i32) -> RayStep {
  let f = pos0 + f32(t) * g.slope;
  let q0f = floor(f);
  let w = f - q0f;
  let q0 = whole_to_i32(q0f);
  let q1 = q0 + 1;
  let w0 = select(0.0, 1.0 - w, q0 >= 0 && q0 < n);
  let w1 = select(0.0, w, q1 >= 0 && q1 < n);
  let c0 = u32(clamp(q0, 0, n - 1));
  let c1 = u32(clamp(q1, 0, n - 1));
  let un = u32(n);
  if (g.col_mode != 0u) {
    return RayStep(c0 * un + u32(t), c1 * un + u32(t), vec2f(w0, w1));
  }
  return RayStep(u32(t) * un + c0, u32(t) * un + c1, vec2f(w0, w1));
}

// Start of ray j across the principal axis (position at step 0).
fn ray_start(g: AngleGeo, j: u32) -> f32 {
  return g.base + f32(j) * g.dbase;
}

// Sum of the weights (x) and of the squared weights (y) of ray j: the row sum and squared row norm of A.
fn ray_weights(g: AngleGeo, j: u32) -> vec2f {
  let n = i32(p.n);
  let pos0 = ray_start(g, j);
  let range = ray_step_range(pos0, g.slope, n);
  var sum = 0.0;
  var sum2 = 0.0;
  for (var t = range.x; t <= range.y; t++) {
    let w = ray_step(g, pos0, t, n).w;
    sum += w.x + w.y;
    sum2 += w.x * w.x + w.y * w.y;
  }
  return vec2f(sum * g.inv_m, sum2 * g.inv_m * g.inv_m);
}

// The (at most two) detector pixels voxel (i, k) contributes to: pixel j0 with weight w.x and
// pixel j0 + 1 with weight w.y (weights of pixels outside [0, cols) are set to zero).
struct VoxelBins {
  j0: i32,
  w: vec2f,
}

fn voxel_bins(g: AngleGeo, i: u32, k: u32) -> VoxelBins {
  let jf = g.off + f32(k) * g.c - f32(i) * g.s;
  let j0f = floor(jf - g.m) + 1.0;
  let d0 = abs(j0f - jf) * g.inv_m;
  let d1 = abs(j0f + 1.0 - jf) * g.inv_m;
  let j0 = whole_to_i32(j0f);
  let cols = i32(p.cols);
  let w0 = select(0.0, max(0.0, 1.0 - d0) * g.inv_m, j0 >= 0 && j0 < cols);
  let w1 = select(0.0, max(0.0, 1.0 - d1) * g.inv_m, j0 + 1 >= 0 && j0 + 1 < cols);
  return VoxelBins(j0, vec2f(w0, w1));
}

// Clamped detector index (always addressable; its weight is zero when it was out of range).
fn bin_index(j: i32) -> u32 {
  return u32(clamp(j, 0, i32(p.cols) - 1));
}
