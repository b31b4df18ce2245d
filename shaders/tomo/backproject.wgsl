// Back-projection (voxel-driven, the exact adjoint of project.wgsl): for every voxel (s, i, k),
// out = Σ_t Σ_j A[(order[t], s, j), (s, i, k)] · sino[t][s][j] over positions t in [t0, t0 + count).
// Each voxel gathers the two detector pixels it projects onto per angle: no atomics.
//#include "tomo/joseph.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> sino: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn backproject(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x;
  if (k >= p.n) { return; }
  let i = gid.y;
  let s = gid.z;
  var acc = 0.0;
  for (var u = 0u; u < p.count; u++) {
    let t = p.t0 + u;
    let b = voxel_bins(geo[order[t]], i, k);
    let row = (t * p.slices + s) * p.cols;
    acc += b.w.x * sino[row + bin_index(b.j0)] + b.w.y * sino[row + bin_index(b.j0 + 1)];
  }
  out[(s * p.n + i) * p.n + k] = acc;
}
