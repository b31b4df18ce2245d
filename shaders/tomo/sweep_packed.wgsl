// Block-iterative sweep, band walk: ART, SART and SIRT (see src/tomo/iterative.ts), the traversal
// used on CPU adapters (sweep_voxels.wgsl is the voxel-driven one for GPUs).
//
// The blocks are the fixed runs of p.block consecutive angles of iterative.ts (block b = angles
// [b·block, min((b+1)·block, angles))). The sweep table `order` holds, per block position,
// p.block angle slots (order[pos·block + u] = angle u of that block), and after all slots the
// block id of every position (order[slots + pos]). Per block B at position p.t0:
//   band_sums, corrections (rays):  r = b[a][s][j] − (A x)(a, s, j);  q[s][u][j] = relax · r · rowscale[a][j]
//   update, once per angle u = p.sub of the block (voxels):
//                                   x ← max(x + C_B[v] · Σ_{t∈B} Σ_j A[(a,s,j), v] q, lo)
//   clamp (blocks of several angles, and the first block of an iteration): x ← max(x, lo)
// where C_B[v] is 1 (ART) or 1 / Σ_{t∈B} Σ_j A[(a,s,j), v], the block's column sum (SART, SIRT).
// Column sums of one-angle blocks are computed in place; those of larger blocks come from
// colscale[block][i][k] (colsum.wgsl).
//
// Each stage is a dispatch of its own, one workgroup per slice group (from p.group0: the host runs
// runs of slice groups through a whole iteration in turn, so their volume stays in cache), and no
// entry point has a barrier: on lavapipe a barrier turns the whole shader into a coroutine whose
// loop-carried values live in its frame in memory. One dispatch per iteration with barriers
// between the stages took 1.39 s per 256³ ART iteration, these dispatches 0.97–1.06 s.
//
// Bands. For one angle, Joseph's rays cross every principal-axis step (an image row, or column) at
// positions f_j = base + j·dbase + t·slope that are 1/m ≥ 1 apart, and a voxel at position q
// of that step is touched only by the two rays around it (hat weights 1 − |q − f_j|). So the
// voxels of a slice split into bands, band e lying between rays e − 1 and e (rays −1 and cols are
// virtual: no data, no correction): at step t, band e holds the voxels q in
// [⌈f_lower⌉, ⌈f_upper⌉), the boundaries computed by the same expression on both sides so the bands
// partition the slice exactly. An invocation walks a super band of two adjacent bands (the voxels
// between three neighbouring rays, ray ordinals 2s − 1 .. 2s + 1 in position order),
// visiting each of its voxels once per angle in a fixed number of slots per step:
//   band_sums: loads each voxel once and adds it, hat-weighted, to the partial sums of the two
//            of the three rays that can touch it (registers), for every angle of the block; a
//            ray's sum is its partial from the super band it lies inside plus, for a boundary
//            ray, the neighbour's (storage buffer q, QS slots per angle; `corrections` then
//            replaces the ray's own slot with its correction).
//   update:  holds the three rays' corrections in registers and updates each voxel with one load
//            and one store — where a voxel-driven update gathers two corrections per voxel.
// On the software adapter, where every data-dependent access costs the same per element, this
// halves the accesses per voxel and angle of ART (48 → 24 floats for eight slices).
// The non-negativity clamp follows the update of every voxel of a one-angle block; voxels in no
// band (outside the detector's reach) are clamped by the clamp pass after the iteration's first
// block, and blocks of several angles clamp in that pass after the block (so the clamp sees the
// whole sum).
// A workgroup's LANES slices share the index arithmetic of every step and every voxel (the
// geometry does not depend on the slice). Invocation lid of slice group g adds its Σ r² to
// resid[g·WG + lid] (zeroed by the host before an iteration), so the sum is the same run to run.
//
// Layout: LANES consecutive slices are interleaved in one value of type `SV` (f32, vec2f, vec4f or
// mat2x4f; the including file sweep1/2/4/8.wgsl declares, through lanes1/2/4/8.wgsl, SV, LANES and the helpers
// `splat(f32) -> SV`, `clamp_below(SV, f32) -> SV` and `sum_squares(SV) -> f32`), so every
// access moves the workgroup's slices at once:
//   vol  [groups, n, n] of SV   (group g holds slices LANES·g .. LANES·g + LANES − 1 of the slab)
//   data [angles, groups, cols] of SV
//   q    [groups, block, QS] of SV (band partials, then corrections, of each angle of a block)
// One workgroup owns one slice group.
//#include "tomo/sweep_bindings.wgsl"
//#include "common/intconv.wgsl"
// Slots of one angle in q: three per super band (its rays' partial sums), ⌈(cols + 1) / 2⌉ super
// bands (sweepBandSlots in src/tomo/iterative.ts).
override QS: u32 = 3u;

// Detector pixel of ray ordinal o (rays numbered in the order of their position across the
// principal axis; −1 and cols are the virtual rays beyond the detector's edges).
fn ray_of(g: AngleGeo, o: i32, cols: i32) -> i32 {
  return select(cols - 1 - o, o, g.dbase > 0.0);
}

// Position of ray ordinal o at step 0 (the same expression for every band that has it as a boundary).
fn ordinal_pos(g: AngleGeo, o: i32, cols: i32) -> f32 {
  return g.base + f32(ray_of(g, o, cols)) * g.dbase;
}

// Positions at step 0 of the three rays of super band sb (ordinals 2·sb − 1, 2·sb, 2·sb + 1).
fn super_positions(g: AngleGeo, sb: u32, cols: i32) -> vec3f {
  let o0 = i32(2u * sb) - 1;
  return vec3f(ordinal_pos(g, o0, cols), ordinal_pos(g, o0 + 1, cols), ordinal_pos(g, o0 + 2, cols));
}

// Steps over which a super band whose outer rays start at f0.x and f0.z can hold voxels.
fn super_steps(g: AngleGeo, f0: vec3f, n: i32) -> vec2i {
  let ra = ray_step_range(f0.x, g.slope, n);
  let rb = ray_step_range(f0.z, g.slope, n);
  if (ra.x > ra.y) { return rb; }
  if (rb.x > rb.y) { return ra; }
  return vec2i(min(ra.x, rb.x), max(ra.y, rb.y));
}

// Strides within a slice of one principal-axis step (x) and of one position across (y): the voxel
// at step t, position q is at t·x + q·y.
fn voxel_strides(g: AngleGeo, n: u32) -> vec2u {
  return select(vec2u(n, 1u), vec2u(1u, n), g.col_mode != 0u);
}

// Slot (within an angle's QS) of ordinal o's partial sum from the super band where it is not the
// upper boundary.
fn ordinal_slot(o: u32) -> u32 {
  let s = (o + 1u) / 2u;
  return s * 3u + (o + 1u - s * 2u);
}

// Hat weight of a voxel at distance d from a ray.
fn hat(d: f32) -> f32 {
  return max(0.0, 1.0 - abs(d));
}

// One principal-axis step t of a super band: its rays' positions f, the first voxel slot qa =
// ⌈f.x⌉ (not clipped: it may lie before the slice), the end qb = min(⌈f.z⌉, n) of its voxels and
// the slice offset of position 0 at that step. The rays are 1/m ∈ [1, √2] apart, so the band
// [⌈f.x⌉, ⌈f.z⌉) holds two or three voxels, and the voxel at slot s (position qa + s) lies at
// qa + s − f.x ∈ [s, s + 1) past ray 0: slot 0 is touched by rays 0 and 1 only, slots 1 and 2 by
// rays 1 and 2 only (the third hat weight of each is zero), so each slot evaluates two weights.
struct BandStep {
  f: vec3f,
  qa: i32,
  qb: i32,
  at: u32,
}

fn band_step(g: AngleGeo, f0: vec3f, t: i32, n: i32, stride: vec2u) -> BandStep {
  let f = f0 + vec3f(f32(t) * g.slope);
  return BandStep(f, ceil_i32(f.x), min(ceil_i32(f.z), n), u32(t) * stride.x);
}

// Correction of ray ordinal o of one angle (its q row starting at `row`); zero for the virtual rays.
fn ray_correction(row: u32, o: i32, cols: i32) -> SV {
  let c = q[row + ordinal_slot(u32(clamp(o, 0, cols - 1)))];
  return select(0.0, 1.0, o >= 0 && o < cols) * c;
}

// Step length 1/m of ray ordinal o; zero for the virtual rays.
fn ray_length(g: AngleGeo, o: i32, cols: i32) -> f32 {
  return select(0.0, g.inv_m, o >= 0 && o < cols);
}

// The update stage for one voxel v of the workgroup's slice group at vbase: adds the hat-weighted
// corrections upd (their weights summing to ws), scaled by the column normalisation of SART/SIRT,
// and clamps one-angle blocks in place.
fn update_voxel(vbase: u32, v: u32, upd: SV, ws: f32, nb: u32, colbase: u32, inline_clamp: bool, lo: f32) {
  var c = 1.0;
  if (NORMALISE != 0u) {
    if (nb == 1u) {
      c = select(0.0, 1.0 / ws, ws > 0.0);
    } else {
      c = colscale[colbase + v];
    }
  }
  let o = vbase + v;
  var x = vol[o] + c * upd;
  if (inline_clamp) { x = clamp_below(x, lo); }
  vol[o] = x;
}

// Angle slot of the block at position p.t0: tb + u is angle u's index in `order`.
fn block_slots() -> u32 {
  return p.t0 * p.block;
}

// Id of the block at position p.t0 (stored after all angle slots of the sweep table).
fn block_id() -> u32 {
  let slots = ((p.angles + p.block - 1u) / p.block) * p.block;
  return order[slots + p.t0];
}

// Angles in the block at position p.t0.
fn block_angles() -> u32 {
  return min(p.block, p.angles - block_id() * p.block);
}

// Band partial sums of every ray of the block: the three rays of each super band (every angle u
// of the block, every super band sb) into q.
@compute @workgroup_size(WG)
fn band_sums(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = p.n;
  let ni = i32(n);
  let colsi = i32(p.cols);
  let grp = p.group0 + wid.x;
  let vbase = grp * n * n;
  let qbase = grp * p.block * QS;
  let tb = block_slots();
  let nb = block_angles();
  let nsb = (p.cols + 2u) / 2u;
  for (var e = lid; e < nb * nsb; e += WG) {
    let u = e / nsb;
    let sb = e - u * nsb;
    let g = geo[order[tb + u]];
    let f0 = super_positions(g, sb, colsi);
    var a0 = splat(0.0);
    var a1 = splat(0.0);
    var a2 = splat(0.0);
    let steps = super_steps(g, f0, ni);
    let stride = voxel_strides(g, n);
    for (var t = steps.x; t <= steps.y; t++) {
      let st = band_step(g, f0, t, ni, stride);
      if (st.qa >= 0 && st.qa < st.qb) {
        let x = vol[vbase + st.at + u32(st.qa) * stride.y];
        let qf = f32(st.qa);
        a0 += hat(qf - st.f.x) * x;
        a1 += hat(qf - st.f.y) * x;
      }
      for (var sl = 1; sl < 3; sl++) {
        let qq = st.qa + sl;
        if (qq >= st.qb) { break; }
        if (qq >= 0) {
          let x = vol[vbase + st.at + u32(qq) * stride.y];
          let qf = f32(qq);
          a1 += hat(qf - st.f.y) * x;
          a2 += hat(qf - st.f.z) * x;
        }
      }
    }
    let base = qbase + u * QS + sb * 3u;
    q[base] = a0;
    q[base + 1u] = a1;
    q[base + 2u] = a2;
  }
}

// Each ray's sum (its partial plus, at a super band's lower boundary, the neighbour's), residual
// and correction, which replaces the ray's own slot in q.
@compute @workgroup_size(WG)
fn corrections(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let cols = p.cols;
  let colsi = i32(cols);
  let groups = p.slices / LANES;
  let grp = p.group0 + wid.x;
  let qbase = grp * p.block * QS;
  let tb = block_slots();
  let nb = block_angles();
  var rss = 0.0;
  for (var e = lid; e < nb * cols; e += WG) {
    let u = e / cols;
    let o = e - u * cols;
    let a = order[tb + u];
    let g = geo[a];
    let slot = qbase + u * QS + ordinal_slot(o);
    var sum = q[slot];
    // An ordinal at a super band's lower boundary is also the previous one's upper boundary.
    if ((o + 1u) % 2u == 0u && o + 1u >= 2u) { sum += q[slot - 1u]; }
    let j = u32(ray_of(g, i32(o), colsi));
    let r = data[(a * groups + grp) * cols + j] - sum * g.inv_m;
    rss += sum_squares(r);
    // Only ordinal o reads its slot, so its correction replaces it there.
    q[slot] = (p.relax * rowscale[a * cols + j]) * r;
  }
  resid[grp * WG + lid] += rss;
}

// Angle u = p.sub of the block: every super band applies its three rays' corrections to its voxels.
@compute @workgroup_size(WG)
fn update(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = p.n;
  let ni = i32(n);
  let colsi = i32(p.cols);
  let lo = p.lo;
  let grp = p.group0 + wid.x;
  let vbase = grp * n * n;
  let u = p.sub;
  let row = grp * p.block * QS + u * QS;
  let tb = block_slots();
  let nb = block_angles();
  let colbase = block_id() * n * n;
  let g = geo[order[tb + u]];
  let inline_clamp = lo > -3.0e38 && nb == 1u;
  let nsb = (p.cols + 2u) / 2u;
  for (var sb = lid; sb < nsb; sb += WG) {
    let o0 = i32(2u * sb) - 1;
    let f0 = super_positions(g, sb, colsi);
    // Corrections of the three rays, and their step lengths; virtual rays (beyond the
    // detector) carry no correction and no weight, as in voxel_bins.
    let c0 = ray_correction(row, o0, colsi);
    let c1 = ray_correction(row, o0 + 1, colsi);
    let c2 = ray_correction(row, o0 + 2, colsi);
    let mm = vec3f(ray_length(g, o0, colsi), ray_length(g, o0 + 1, colsi), ray_length(g, o0 + 2, colsi));
    let steps = super_steps(g, f0, ni);
    let stride = voxel_strides(g, n);
    for (var t = steps.x; t <= steps.y; t++) {
      let st = band_step(g, f0, t, ni, stride);
      if (st.qa >= 0 && st.qa < st.qb) {
        let qf = f32(st.qa);
        let wa = hat(qf - st.f.x) * mm.x;
        let wb = hat(qf - st.f.y) * mm.y;
        update_voxel(vbase, st.at + u32(st.qa) * stride.y, wa * c0 + wb * c1, wa + wb, nb, colbase, inline_clamp, lo);
      }
      for (var sl = 1; sl < 3; sl++) {
        let qq = st.qa + sl;
        if (qq >= st.qb) { break; }
        if (qq >= 0) {
          let qf = f32(qq);
          let wa = hat(qf - st.f.y) * mm.y;
          let wb = hat(qf - st.f.z) * mm.z;
          update_voxel(vbase, st.at + u32(qq) * stride.y, wa * c1 + wb * c2, wa + wb, nb, colbase, inline_clamp, lo);
        }
      }
    }
  }
}

// x ← max(x, lo) over the slice group: after blocks of several angles (the clamp sees the whole
// sum) and after an iteration's first block (voxels in no band keep their starting value).
@compute @workgroup_size(WG)
fn clamp_slices(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let nn = p.n * p.n;
  let vbase = (p.group0 + wid.x) * nn;
  for (var v = lid; v < nn; v += WG) { vol[vbase + v] = clamp_below(vol[vbase + v], p.lo); }
}
