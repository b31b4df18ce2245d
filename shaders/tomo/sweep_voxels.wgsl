// Block-iterative sweep, voxel-driven update: ART, SART and SIRT in one kernel (see
// src/tomo/iterative.ts), the traversal used on GPUs. sweep_packed.wgsl computes the same matrix
// by walking bands between rays, which halves the data accesses on CPU adapters (lavapipe) but
// strides across image rows for half the angles; here every phase-2 access of a warp is
// coalesced (consecutive voxels) and the corrections are gathered from a small cached array.
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
// colscale[block][i][k] (colsum.wgsl), so phase 2 can run angle by angle with the angle's
// constants held in registers, and every voxel of a slice is visited once per angle.
// Slices are independent, so a workgroup never waits for another: barriers inside the
// workgroup separate the phases, and the slices' volume stays in cache for the whole sweep.
// Its LANES slices share the index arithmetic of every ray step and every voxel (the geometry does
// not depend on the slice). resid[wid] receives the workgroup's Σ r² over the sweep.
//
// Layout: LANES consecutive slices are interleaved in one value of type `SV` (f32, vec2f, vec4f or
// mat2x4f;
// the including file sweep1/2/4/8_voxels.wgsl declares, through lanes1/2/4/8.wgsl, SV, LANES and the helpers `splat(f32) -> SV`,
// `clamp_below(SV, f32) -> SV` and `sum_squares(SV) -> f32`), so every
// ray step and every voxel update moves the workgroup's slices with one access:
//   vol  [groups, n, n] of SV   (group g holds slices LANES·g .. LANES·g + LANES − 1 of the slab)
//   data [angles, groups, cols] of SV
//   q    [groups, block, cols] of SV
// One workgroup owns one slice group.
//#include "tomo/sweep_bindings.wgsl"
// Blocks of one angle (ART, SART) keep the block's corrections in workgroup memory (QWG = cols
// entries); larger blocks (SIRT, OS-SART) use the storage buffer q.
override QWG: u32 = 0;

var<workgroup> qw: array<SV, max(QWG, 1u)>;

@compute @workgroup_size(WG)
fn sweep(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = p.n;
  let ni = i32(n);
  let nn = n * n;
  let cols = p.cols;
  let groups = p.slices / LANES;
  let angles = p.angles;
  let t0 = p.t0;
  let count = p.count;
  let relax = p.relax;
  let lo = p.lo;
  let bs = p.block;
  let grp = wid.x;
  let vbase = grp * nn;
  let qbase = grp * bs * cols;
  var rss = 0.0;
  let slots = ((angles + bs - 1u) / bs) * bs;
  for (var bp = t0; bp < t0 + count; bp++) {
    let blk = order[slots + bp];
    let nb = min(bs, angles - blk * bs);
    let tb = bp * bs;
    let colbase = blk * nn;
    // Phase 1: residuals of every ray of the block for the group's four slices.
    for (var e = lid; e < nb * cols; e += WG) {
      let u = e / cols;
      let j = e - u * cols;
      let a = order[tb + u];
      let g = geo[a];
      let pos0 = ray_start(g, j);
      let range = ray_step_range(pos0, g.slope, ni);
      var acc = splat(0.0);
      for (var t = range.x; t <= range.y; t++) {
        let st = ray_step(g, pos0, t, ni);
        acc += st.w.x * vol[vbase + st.o0] + st.w.y * vol[vbase + st.o1];
      }
      let r = data[(a * groups + grp) * cols + j] - acc * g.inv_m;
      rss += sum_squares(r);
      let corr = (relax * rowscale[a * cols + j]) * r;
      if (QWG != 0u) { qw[j] = corr; } else { q[qbase + u * cols + j] = corr; }
    }
    storageBarrier();
    workgroupBarrier();
    // Phase 2: angle by angle, every voxel gathers the corrections of that angle's rays.
    for (var u = 0u; u < nb; u++) {
      let g = geo[order[tb + u]];
      let last = u + 1u == nb;
      let row = qbase + u * cols;
      var i = lid / n;
      var k = lid - i * n;
      for (var v = lid; v < nn; v += WG) {
        let b = voxel_bins(g, i, k);
        var c = 1.0;
        if (NORMALISE != 0u) {
          if (nb == 1u) {
            let ws = b.w.x + b.w.y;
            c = select(0.0, 1.0 / ws, ws > 0.0);
          } else {
            c = colscale[colbase + v];
          }
        }
        let o = vbase + v;
        var qq: SV;
        if (QWG != 0u) {
          qq = b.w.x * qw[bin_index(b.j0)] + b.w.y * qw[bin_index(b.j0 + 1)];
        } else {
          qq = b.w.x * q[row + bin_index(b.j0)] + b.w.y * q[row + bin_index(b.j0 + 1)];
        }
        var x = vol[o] + c * qq;
        if (last) { x = clamp_below(x, lo); }
        vol[o] = x;
        k += WG;
        while (k >= n) {
          k -= n;
          i += 1u;
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
  store_workgroup_sum(lid, wid.x, rss);
}
