// Overlap projection, probe half, step 2 of 2: one invocation per (mode, probe pixel) adds the
// frame groups' partial sums of probe_sums.wgsl in ascending group order (deterministic, no
// atomics) and finalises
//
//   P_m(r) = (c_P·P_m(r) + Σ_j conj(O_j(r)) ψ_jm(r)) / (c_P + Σ_j |O_j(r)|²)
//
// or, with RESIDUAL (input D_j = ψ_j − P·O_j), P_m(r) += Σ_j conj(O_j(r)) D_jm(r) / (c_P + Σ_j |O_j(r)|²)
// (the same value when D is current). Chunks of frames carry their running sums in `num`/`den`
// as in object_update.wgsl; the last chunk writes the probe.
//#include "common/index.wgsl"
//#include "ptycho/finalize.wgsl"

struct Params {
  h: u32,
  w: u32,
  modes: u32,
  groups: u32,    // frame groups of this chunk (rows of `part`)
  first: u32,     // 1: the chunk starts the sums (ignore num/den)
  last: u32,      // 1: the chunk finalises the probe; 0: it leaves the sums in num/den
  c_p: f32,       // probe inertia c_P
  support: f32,   // probe support radius in pixels around (h/2, w/2); 0 = no support constraint
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> probe: array<vec2f>;  // [modes, h, w]
@group(0) @binding(2) var<storage, read> part: array<vec4f>;         // [groups, modes·h·w]
@group(0) @binding(3) var<storage, read_write> num: array<vec2f>;    // [modes, h, w]
@group(0) @binding(4) var<storage, read_write> den: array<f32>;      // [modes, h, w]

override WG: u32 = 64;
override RESIDUAL: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = p.h * p.w;
  let total = p.modes * hw;
  if (i >= total) { return; }
  var acc = vec2f(0.0);
  var d = 0.0;
  if (p.first == 0u) {
    acc = num[i];
    d = den[i];
  }
  var s = vec3f(0.0);
  for (var g = 0u; g < p.groups; g++) {
    s += part[g * total + i].xyz;
  }
  acc += s.xy;
  d += s.z;
  if (p.last == 1u) {
    probe[i] = finalize_probe(probe[i], acc, d, p.c_p, p.support, i, p.h, p.w, RESIDUAL);
  } else {
    num[i] = acc;
    den[i] = d;
  }
}
