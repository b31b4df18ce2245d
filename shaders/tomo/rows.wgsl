// Row weights of the projector matrix for every ray (angle order[t], pixel j), t in [t0, t0 + count):
// MODE 0: Σ w (row sum), 1: Σ w² (squared row norm), 2: 1/Σ w, 3: 1/Σ w² (0 where the sum is 0).
// Rows do not depend on the slice, so the table is [angles, cols], indexed by angle.
//#include "tomo/joseph.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 64;
override MODE: u32 = 0;

@compute @workgroup_size(WG)
fn row_weights(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= p.cols) { return; }
  let a = order[p.t0 + gid.z];
  let w = ray_weights(geo[a], j);
  var v = w.x;
  if (MODE == 1u) { v = w.y; }
  if (MODE == 2u) { v = select(0.0, 1.0 / w.x, w.x > 0.0); }
  if (MODE == 3u) { v = select(0.0, 1.0 / w.y, w.y > 0.0); }
  out[a * p.cols + j] = v;
}
