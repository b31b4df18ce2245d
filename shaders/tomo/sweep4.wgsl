// Block-iterative sweep (ART, SART, SIRT) on slices packed four to a vec4f: the same algorithm
// as sweep.wgsl (read that file's comment first), with the volume, the data and the corrections
// stored slice-interleaved, so every ray step and every voxel update moves four slices with one
// 16-byte access and one set of index arithmetic.
//   vol  [groups, n, n] of vec4f   (group g holds slices 4g .. 4g+3 of the slab)
//   data [angles, groups, cols] of vec4f
//   q    [groups, block, cols] of vec4f
// One workgroup owns one slice group.
//#include "tomo/joseph.wgsl"
//#include "tomo/workgroup_sum.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> data: array<vec4f>;
@group(0) @binding(4) var<storage, read> rowscale: array<f32>;
@group(0) @binding(5) var<storage, read> colscale: array<f32>;
@group(0) @binding(6) var<storage, read_write> vol: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> q: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> resid: array<f32>;

override WG: u32 = 256;
override NORMALISE: u32 = 0; // 0: ART (no column scaling); 1: SART/SIRT
// Blocks of one angle (ART, SART) keep the block's corrections in workgroup memory (QWG = cols
// vec4s); larger blocks (SIRT, OS-SART) use the storage buffer q.
override QWG: u32 = 0;

var<workgroup> qw: array<vec4f, max(QWG, 1u)>;

@compute @workgroup_size(WG)
fn sweep(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = p.n;
  let ni = i32(n);
  let nn = n * n;
  let cols = p.cols;
  let groups = p.slices / 4u;
  let angles = p.angles;
  let t0 = p.t0;
  let count = p.count;
  let relax = p.relax;
  let lo = vec4f(p.lo);
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
      var acc = vec4f(0.0);
      for (var t = range.x; t <= range.y; t++) {
        let st = ray_step(g, pos0, t, ni);
        acc += st.w.x * vol[vbase + st.o0] + st.w.y * vol[vbase + st.o1];
      }
      let r = data[(a * groups + grp) * cols + j] - acc * g.inv_m;
      rss += dot(r, r);
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
        var qq: vec4f;
        if (QWG != 0u) {
          qq = b.w.x * qw[bin_index(b.j0)] + b.w.y * qw[bin_index(b.j0 + 1)];
        } else {
          qq = b.w.x * q[row + bin_index(b.j0)] + b.w.y * q[row + bin_index(b.j0 + 1)];
        }
        var x = vol[o] + c * qq;
        if (last) { x = max(x, lo); }
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
