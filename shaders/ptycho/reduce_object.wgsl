// All-reduce of the object half of the overlap projection across devices (src/ptycho/partition.ts).
//
// Each device holds a window of the object and has summed, over ITS frames only, the partial
// numerator Σ S_jᵀ(P̄ψ_j) (or Σ S_jᵀ(P̄D_j)) and denominator Σ S_jᵀ|P|² into `num`/`den`
// (object_update.wgsl with `last` = 0). The partials of the other devices for the part of this
// window they overlap arrive in `imports`: one rectangle per other device, packed by
// pack_overlap.wgsl on that device as (num.re, num.im, den) per pixel, row-major.
//
// Per window pixel q the contributions are summed in DEVICE-INDEX ORDER (own partial at its own
// index), then the object is finalised exactly as the single-device kernel does
// (ptycho/finalize.wgsl). Every device that holds q sums the same values in the same order, so
// shared pixels come out bit-identical on all devices.
//#include "common/index.wgsl"
//#include "ptycho/finalize.wgsl"
//#include "ptycho/overlap_rect.wgsl"

struct Params {
  rows: u32,     // window rows
  cols: u32,     // window cols
  parts: u32,    // number of devices
  me: u32,       // this device's index
  c_o: f32,      // object inertia (global)
  amp_max: f32,  // amplitude clip (0 = off)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> obj: array<vec2f>;  // window [rows, cols]
@group(0) @binding(2) var<storage, read> num: array<vec2f>;        // own partial numerator
@group(0) @binding(3) var<storage, read> den: array<f32>;          // own partial denominator
@group(0) @binding(4) var<storage, read> rects: array<Rect>;       // [parts], by device index
@group(0) @binding(5) var<storage, read> imports: array<f32>;      // other devices' partials

override WG: u32 = 64;
override RESIDUAL: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  if (i >= p.rows * p.cols) { return; }
  let y = i / p.cols;
  let x = i - y * p.cols;
  var acc = vec2f(0.0);
  var d = 0.0;
  for (var e = 0u; e < p.parts; e++) {
    if (e == p.me) {
      acc += num[i];
      d += den[i];
      continue;
    }
    let r = rects[e];
    if (y < r.y0 || y >= r.y0 + r.h || x < r.x0 || x >= r.x0 + r.w) { continue; }
    let k = 3u * (r.offset + (y - r.y0) * r.w + (x - r.x0));
    acc += vec2f(imports[k], imports[k + 1u]);
    d += imports[k + 2u];
  }
  obj[i] = finalize_object(obj[i], acc, d, p.c_o, p.amp_max, RESIDUAL);
}
