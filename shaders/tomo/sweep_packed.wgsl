// Block-iterative sweep, band walk: ART, SART and SIRT in one kernel (see src/tomo/iterative.ts),
// the traversal used on CPU adapters (sweep_voxels.wgsl is the voxel-driven one for GPUs).
//
// One workgroup owns LANES consecutive slices of the slab and walks the block positions
// [t0, t0 + count). The blocks are the fixed runs of p.block consecutive angles of iterative.ts
// (block b = angles [b·block, min((b+1)·block, angles))). The sweep table `order` holds, per block
// position, p.block angle slots (order[pos·block + u] = angle u of that block), and after all
// slots the block id of every position (order[slots + pos]). Per block B:
//   phase 1 (rays):   r = b[a][s][j] − (A x)(a, s, j);  q[s][t − tb][j] = relax · r · rowscale[a][j]
//   phase 2 (voxels): x ← max(x + C_B[v] · Σ_{t∈B} Σ_j A[(a,s,j), v] q, lo)
// where C_B[v] is 1 (ART) or 1 / Σ_{t∈B} Σ_j A[(a,s,j), v], the block's column sum (SART, SIRT).
// Column sums of one-angle blocks are computed in place; those of larger blocks come from
// colscale[block][i][k] (colsum.wgsl).
//
// Bands. For one angle, Joseph's rays cross every principal-axis step (an image row, or column) at
// positions f_j = base + j·dbase + t·slope that are 1/m ≥ 1 apart, and a voxel at position q
// of that step is touched only by the two rays around it (hat weights 1 − |q − f_j|). So the
// voxels of a slice split into bands, band e lying between rays e − 1 and e (rays −1 and cols are
// virtual: no data, no correction): at step t, band e holds the voxels q in
// [⌈f_lower⌉, ⌈f_upper⌉), the boundaries computed by the same expression on both sides so the bands
// partition the slice exactly. An invocation walks a super band of KB adjacent bands (the voxels
// between KB + 1 neighbouring rays, ray ordinals s·KB − 1 .. s·KB + KB − 1 in position order),
// visiting each of its voxels once per angle in a fixed number of slots per step:
//   phase 1: loads each voxel once and adds it, hat-weighted, to the partial sums of the KB + 1
//            rays (registers), for every angle of the block; a ray's sum is its partial from the
//            super band it lies inside plus, for a boundary ray, the neighbour's (storage buffer q,
//            QS slots per angle; the ray's correction then replaces its own slot).
//   phase 2: holds the KB + 1 rays' corrections in registers and updates each voxel with one load
//            and one store — where a voxel-driven update gathers two corrections per voxel.
// On the software adapter, where every data-dependent access costs the same per element, this
// halves the accesses per voxel and angle of ART (48 → 24 floats for eight slices).
// The non-negativity clamp follows the update of every voxel of the block's last angle; voxels in
// no band (outside the detector's reach) are clamped by a pass after the dispatch's first block,
// and blocks of several angles clamp in a pass of their own after the block (so the clamp sees
// the whole sum).
// Slices are independent, so a workgroup never waits for another: barriers inside the
// workgroup separate the phases, and the slices' volume stays in cache for the whole sweep.
// Its LANES slices share the index arithmetic of every step and every voxel (the geometry does
// not depend on the slice). resid[wid] receives the workgroup's Σ r² over the sweep.
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
// Bands per invocation (1..4): an invocation walks KB adjacent bands, i.e. the voxels between KB + 1
// consecutive rays, so more of its steps' voxel slots carry work (1–2 voxels per step for one band).
// The nsb = ⌈(cols + 1) / KB⌉ super bands of an angle cover ordinals −1 .. nsb·KB − 1.
override KB: u32 = 2;
const KB_MAX: u32 = 4u;
// Voxel slots of a super band per step: its KB + 1 rays span KB·(1..√2) pixels, so it holds at
// most ⌈KB·√2⌉ voxels; a fixed slot count (not a loop to the band's end) keeps lanes in step.
override SLOTS: i32 = i32(ceil(f32(KB) * 1.4142135));

// Slots of one angle in q: (KB + 1) per super band, ⌈(cols + 1) / KB⌉ super bands
// (sweepBandSlots in src/tomo/iterative.ts).
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

// Steps over which super band s (ordinals s·KB − 1 .. s·KB + KB − 1) can hold voxels.
fn super_steps(g: AngleGeo, s: u32, n: i32, cols: i32) -> vec2i {
  let o0 = i32(s * KB) - 1;
  let ra = ray_step_range(ordinal_pos(g, o0, cols), g.slope, n);
  let rb = ray_step_range(ordinal_pos(g, o0 + i32(KB), cols), g.slope, n);
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
  let s = (o + 1u) / KB;
  return s * (KB + 1u) + (o + 1u - s * KB);
}

// Positions at step 0 of the KB + 1 rays of super band sb (ordinals sb·KB − 1 .. sb·KB + KB − 1).
fn super_positions(g: AngleGeo, sb: u32, cols: i32) -> array<f32, KB_MAX + 1u> {
  var f0: array<f32, KB_MAX + 1u>;
  let o0 = i32(sb * KB) - 1;
  for (var i = 0u; i <= KB; i++) { f0[i] = ordinal_pos(g, o0 + i32(i), cols); }
  return f0;
}

// One principal-axis step t of a super band: its rays' positions, the voxels [qa, qb) it holds
// (clipped to the slice) and the slice offset of position 0 at that step.
struct BandStep {
  ft: array<f32, KB_MAX + 1u>,
  qa: i32,
  qb: i32,
  at: u32,
}

fn band_step(g: AngleGeo, f0: array<f32, KB_MAX + 1u>, t: i32, n: i32, stride: vec2u) -> BandStep {
  let ts = f32(t) * g.slope;
  var ft: array<f32, KB_MAX + 1u>;
  for (var i = 0u; i <= KB; i++) { ft[i] = f0[i] + ts; }
  return BandStep(ft, max(i32(ceil(ft[0])), 0), min(i32(ceil(ft[KB])), n), u32(t) * stride.x);
}

@compute @workgroup_size(WG)
fn sweep(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = p.n;
  let ni = i32(n);
  let nn = n * n;
  let cols = p.cols;
  let colsi = i32(cols);
  let groups = p.slices / LANES;
  let relax = p.relax;
  let lo = p.lo;
  let bs = p.block;
  let grp = wid.x;
  let vbase = grp * nn;
  let qbase = grp * bs * QS;
  let clamping = lo > -3.0e38;
  var rss = 0.0;
  let slots = ((p.angles + bs - 1u) / bs) * bs;
  for (var bp = p.t0; bp < p.t0 + p.count; bp++) {
    let blk = order[slots + bp];
    let nb = min(bs, p.angles - blk * bs);
    let tb = bp * bs;
    let colbase = blk * nn;
    // Phase 1: band partial sums of every ray of the block, then its residual and correction.
    let nsb = (cols + KB) / KB;
    for (var e = lid; e < nb * nsb; e += WG) {
      let u = e / nsb;
      let sb = e - u * nsb;
      let g = geo[order[tb + u]];
      let f0 = super_positions(g, sb, colsi);
      var acc: array<SV, KB_MAX + 1u>;
      for (var i = 0u; i <= KB; i++) { acc[i] = splat(0.0); }
      let steps = super_steps(g, sb, ni, colsi);
      let stride = voxel_strides(g, n);
      for (var t = steps.x; t <= steps.y; t++) {
        let st = band_step(g, f0, t, ni, stride);
        for (var sl = 0; sl < SLOTS; sl++) {
          let qq = st.qa + sl;
          if (qq >= st.qb) { break; }
          let x = vol[vbase + st.at + u32(qq) * stride.y];
          let qf = f32(qq);
          for (var i = 0u; i <= KB; i++) {
            acc[i] += max(0.0, 1.0 - abs(qf - st.ft[i])) * x;
          }
        }
      }
      let base = qbase + u * QS + sb * (KB + 1u);
      for (var i = 0u; i <= KB; i++) { q[base + i] = acc[i]; }
    }
    storageBarrier();
    workgroupBarrier();
    for (var e = lid; e < nb * cols; e += WG) {
      let u = e / cols;
      let o = e - u * cols;
      let a = order[tb + u];
      let g = geo[a];
      let slot = qbase + u * QS + ordinal_slot(o);
      var sum = q[slot];
      // An ordinal at a super band's lower boundary is also the previous one's upper boundary.
      if ((o + 1u) % KB == 0u && o + 1u >= KB) { sum += q[slot - 1u]; }
      let j = u32(ray_of(g, i32(o), colsi));
      let r = data[(a * groups + grp) * cols + j] - sum * g.inv_m;
      rss += sum_squares(r);
      // Only ordinal o reads its slot, so its correction replaces it there.
      q[slot] = (relax * rowscale[a * cols + j]) * r;
    }
    storageBarrier();
    workgroupBarrier();
    // Phase 2: angle by angle, every band applies its two rays' corrections to its voxels.
    for (var u = 0u; u < nb; u++) {
      let g = geo[order[tb + u]];
      let inline_clamp = clamping && nb == 1u;
      let row = qbase + u * QS;
      let nsb = (cols + KB) / KB;
      for (var sb = lid; sb < nsb; sb += WG) {
        let o0 = i32(sb * KB) - 1;
        let f0 = super_positions(g, sb, colsi);
        var cc: array<SV, KB_MAX + 1u>;
        var mm: array<f32, KB_MAX + 1u>;
        for (var i = 0u; i <= KB; i++) {
          let o = o0 + i32(i);
          // Virtual rays (beyond the detector) carry no correction and no weight, as in voxel_bins.
          let ok = o >= 0 && o < colsi;
          let oc = u32(clamp(o, 0, colsi - 1));
          cc[i] = q[row + ordinal_slot(oc)];
          cc[i] = select(0.0, 1.0, ok) * cc[i];
          mm[i] = select(0.0, g.inv_m, ok);
        }
        let steps = super_steps(g, sb, ni, colsi);
        let stride = voxel_strides(g, n);
        for (var t = steps.x; t <= steps.y; t++) {
          let st = band_step(g, f0, t, ni, stride);
          for (var sl = 0; sl < SLOTS; sl++) {
            let qq = st.qa + sl;
            if (qq >= st.qb) { break; }
            let qf = f32(qq);
            var upd = splat(0.0);
            var ws = 0.0;
            for (var i = 0u; i <= KB; i++) {
              let w = max(0.0, 1.0 - abs(qf - st.ft[i])) * mm[i];
              upd += w * cc[i];
              ws += w;
            }
            let v = st.at + u32(qq) * stride.y;
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
        }
      }
      if (nb > 1u) {
        storageBarrier();
        workgroupBarrier();
      }
    }
    // Blocks of several angles: the clamp sees the whole block's sum. One-angle blocks clamp the
    // voxels of their bands as they update them; a voxel in no band is left as it was, which after
    // the first block is already clamped, so one pass after the first block clamps the rest.
    if (clamping && (nb > 1u || bp == p.t0)) {
      for (var v = lid; v < nn; v += WG) { vol[vbase + v] = clamp_below(vol[vbase + v], lo); }
    }
    storageBarrier();
    workgroupBarrier();
  }
  store_workgroup_sum(lid, wid.x, rss);
}
