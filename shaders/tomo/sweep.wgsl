// Block-iterative sweep: ART, SART and SIRT in one kernel (see src/tomo/iterative.ts).
//
// One workgroup owns SPW consecutive slices of the slab and walks the sweep positions
// t in [t0, t0 + count) in blocks of p.block angles (order[t] gives the angle). Per block B:
//   phase 1 (rays):   r = b[a][s][j] − (A x)(a, s, j);  q[s][t − tb][j] = relax · r · rowscale[a][j]
//   phase 2 (voxels): x ← max(x + Σ_{t∈B} Σ_j A[(a,s,j), v] q  (/ Σ_{t∈B} Σ_j A[(a,s,j), v] when NORMALISE), lo)
// ART: block 1, rowscale 1/‖row‖², NORMALISE 0 (Kaczmarz with all rays of one angle together).
// SART: block 1 (or an ordered-subset size), rowscale 1/row sum, NORMALISE 1.
// SIRT: one block of all angles, rowscale 1/row sum, NORMALISE 1.
// Slices are independent, so a workgroup never waits for another: barriers inside the
// workgroup separate the phases, and the slab's volume stays in cache for the whole sweep.
// SPW slices share the index arithmetic of every ray step and every voxel (the geometry does
// not depend on the slice). resid[wid] receives the workgroup's Σ r² over the sweep.
//#include "tomo/joseph.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> data: array<f32>;
@group(0) @binding(4) var<storage, read> rowscale: array<f32>;
@group(0) @binding(5) var<storage, read_write> vol: array<f32>;
@group(0) @binding(6) var<storage, read_write> q: array<f32>;
@group(0) @binding(7) var<storage, read_write> resid: array<f32>;

override WG: u32 = 256;
override SPW: u32 = 1;       // slices per workgroup (1..4)
override NORMALISE: u32 = 0;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn sweep(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = p.n;
  let ni = i32(n);
  let nn = n * n;
  let cols = p.cols;
  let s0 = wid.x * SPW;
  let ns = min(SPW, p.slices - s0);
  let bs = p.block;
  var rss = 0.0;
  for (var tb = 0u; tb < p.count; tb += bs) {
    let nb = min(bs, p.count - tb);
    // Phase 1: residuals of every ray of the block, for the workgroup's slices.
    for (var e = lid; e < nb * cols; e += WG) {
      let u = e / cols;
      let j = e - u * cols;
      let a = order[p.t0 + tb + u];
      let g = geo[a];
      let pos0 = ray_start(g, j);
      let range = ray_step_range(pos0, g.slope, ni);
      var acc = vec4f(0.0);
      for (var t = range.x; t <= range.y; t++) {
        let st = ray_step(g, pos0, t, ni);
        for (var m = 0u; m < ns; m++) {
          let base = (s0 + m) * nn;
          acc[m] += st.w.x * vol[base + st.o0] + st.w.y * vol[base + st.o1];
        }
      }
      let scale = p.relax * rowscale[a * cols + j];
      for (var m = 0u; m < ns; m++) {
        let r = data[(a * p.slices + s0 + m) * cols + j] - acc[m] * g.inv_m;
        rss += r * r;
        q[((s0 + m) * bs + u) * cols + j] = scale * r;
      }
    }
    storageBarrier();
    workgroupBarrier();
    // Phase 2: every voxel gathers the corrections of the block's rays (adjoint of phase 1).
    var i = lid / n;
    var k = lid - i * n;
    for (var v = lid; v < nn; v += WG) {
      var upd = vec4f(0.0);
      var wsum = 0.0;
      for (var u = 0u; u < nb; u++) {
        let b = voxel_bins(geo[order[p.t0 + tb + u]], i, k);
        let j0 = bin_index(b.j0);
        let j1 = bin_index(b.j0 + 1);
        wsum += b.w.x + b.w.y;
        for (var m = 0u; m < ns; m++) {
          let row = ((s0 + m) * bs + u) * cols;
          upd[m] += b.w.x * q[row + j0] + b.w.y * q[row + j1];
        }
      }
      var norm = 1.0;
      if (NORMALISE != 0u) { norm = select(0.0, 1.0 / wsum, wsum > 0.0); }
      for (var m = 0u; m < ns; m++) {
        let o = (s0 + m) * nn + v;
        vol[o] = max(vol[o] + upd[m] * norm, p.lo);
      }
      k += WG;
      while (k >= n) {
        k -= n;
        i += 1u;
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
  partial[lid] = rss;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { partial[lid] += partial[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { resid[wid.x] = partial[0]; }
}
