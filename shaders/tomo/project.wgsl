// Forward projection (ray-driven Joseph): out[t][s][j] = (A x)(angle order[t], slice s, pixel j)
// for sweep positions t in [t0, t0 + count). One invocation per (pixel, slice, position).
//#include "tomo/ray_sum.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> vol: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn project(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= p.cols) { return; }
  let s = gid.y;
  let t = p.t0 + gid.z;
  out[(t * p.slices + s) * p.cols + j] = ray_sum(geo[order[t]], s, j);
}
