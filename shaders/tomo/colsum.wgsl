// Inverse column sums of the projector per block of angles (SART with blocks, SIRT):
//   colscale[b][i][k] = 1 / Σ_{a ∈ block b} Σ_j A[(a, ·, j), (i, k)]   (0 where the sum is 0).
// Blocks are listed in `members` (p.block entries per block; 0xffffffff pads a short last block).
// The column sums do not depend on the slice. One invocation per (block, voxel of a slice).
//#include "tomo/joseph.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> members: array<u32>;
@group(0) @binding(3) var<storage, read_write> colscale: array<f32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn column_scale(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x;
  if (k >= p.n) { return; }
  let i = gid.y;
  let b = gid.z;
  var sum = 0.0;
  for (var u = 0u; u < p.block; u++) {
    let a = members[b * p.block + u];
    if (a == 0xffffffffu) { break; }
    let w = voxel_bins(geo[a], i, k).w;
    sum += w.x + w.y;
  }
  colscale[(b * p.n + i) * p.n + k] = select(0.0, 1.0 / sum, sum > 0.0);
}
