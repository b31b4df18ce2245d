// All-reduce of the probe half of the overlap projection across devices (src/ptycho/partition.ts).
// Every device holds a full probe copy and has summed, over its own frames, the partial
// numerator Σ conj(O_j)ψ_j and denominator Σ|O_j|² (probe_update.wgsl with `last` = 0). The other
// devices' partials arrive in `imports`, one block per other device in ascending device order,
// each block [modes·h·w complex numerators, then modes·h·w denominators]. The sum runs in
// device-index order (own partial at its own index), then the probe is finalised as on one
// device (ptycho/finalize.wgsl): every device computes a bit-identical probe.
//#include "common/index.wgsl"
//#include "ptycho/finalize.wgsl"

struct Params {
  h: u32,
  w: u32,
  modes: u32,
  parts: u32,
  me: u32,
  c_p: f32,      // probe inertia (global)
  support: f32,  // probe support radius (0 = off)
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> probe: array<vec2f>;  // [modes, h, w]
@group(0) @binding(2) var<storage, read> num: array<vec2f>;          // own partial numerator
@group(0) @binding(3) var<storage, read> den: array<f32>;            // own partial denominator
@group(0) @binding(4) var<storage, read> imports: array<f32>;        // [parts − 1] blocks

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
  for (var e = 0u; e < p.parts; e++) {
    if (e == p.me) {
      acc += num[i];
      d += den[i];
      continue;
    }
    let base = 3u * total * select(e, e - 1u, e > p.me);
    acc += vec2f(imports[base + 2u * i], imports[base + 2u * i + 1u]);
    d += imports[base + 2u * total + i];
  }
  probe[i] = finalize_probe(probe[i], acc, d, p.c_p, p.support, i, p.h, p.w, RESIDUAL);
}
