// Element-wise helpers on float32 arrays, used by several algorithms.
//#include "common/index.wgsl"

struct Params {
  n: u32,
  a: f32,
  b: f32,
  lo: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

override WG: u32 = 256;

// y = a * x + b * y, then clamped below at lo (lo = -inf for no clamp).
@compute @workgroup_size(WG)
fn axpby(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  if (i >= p.n) { return; }
  y[i] = max(p.a * x[i] + p.b * y[i], p.lo);
}
