// Overlap projection, probe half: one invocation per (mode, probe pixel) sums over the frames of
// a chunk in ascending order (deterministic, no atomics):
//
//   P_m(r) = (c_P·P_m(r) + Σ_j conj(O_j(r)) ψ_jm(r)) / (c_P + Σ_j |O_j(r)|²)
//
// or, with RESIDUAL (input D_j = ψ_j − P·O_j), P_m(r) += Σ_j conj(O_j(r)) D_jm(r) / (c_P + Σ_j |O_j(r)|²)
// (the same value when D is current), with O_j the bilinear view of the object (ptycho/sample.wgsl). Chunks carry their running sums
// in `num`/`den` as in object_update.wgsl; the last chunk writes the probe.
//#include "common/index.wgsl"
//#include "common/complex.wgsl"
//#include "ptycho/sample.wgsl"
//#include "ptycho/finalize.wgsl"

struct Params {
  h: u32,
  w: u32,
  modes: u32,
  cols: u32,      // object row length
  frame0: u32,
  n_frames: u32,  // frames in this chunk
  first: u32,
  last: u32,
  c_p: f32,       // probe inertia c_P
  support: f32,   // probe support radius in pixels around (h/2, w/2); 0 = no support constraint
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> probe: array<vec2f>;  // [modes, h, w]
@group(0) @binding(2) var<storage, read> obj: array<vec2f>;          // [rows, cols]
@group(0) @binding(3) var<storage, read> psi: array<vec2f>;          // chunk [frames, modes, h, w]
@group(0) @binding(4) var<storage, read> pos: array<FramePos>;       // all frames
@group(0) @binding(5) var<storage, read_write> num: array<vec2f>;    // [modes, h, w]
@group(0) @binding(6) var<storage, read_write> den: array<f32>;      // [modes, h, w]

override WG: u32 = 64;
override RESIDUAL: bool = false;
// Entry `main_fused` (residual form, fused with the object half-step just before): `psi` holds D
// from before the object changed, and D_jm − P_m·S_j(O − O_old) is formed on the fly (O_old bound
// as `obj_old`), so no separate pass has to bring D up to date when nothing else needs it.
@group(0) @binding(7) var<storage, read> obj_old: array<vec2f>;     // main_fused only

fn old_object_view(fp: FramePos, ry: u32, rx: u32, cols: u32) -> vec2f {
  let b = view_base(fp, ry, rx, cols);
  return bilinear(obj_old[b], obj_old[b + 1u], obj_old[b + cols], obj_old[b + cols + 1u], fp);
}

// Adds the chunk's sums to the carried ones and, in the last chunk, writes the probe.
fn finish(i: u32, ry: u32, rx: u32, acc_in: vec2f, d_in: f32) {
  var acc = acc_in;
  var d = d_in;
  if (p.first == 0u) {
    acc = num[i] + acc;
    d = den[i] + d;
  }
  if (p.last == 1u) {
    probe[i] = finalize_probe(probe[i], acc, d, p.c_p, p.support, ry, rx, p.h, p.w, RESIDUAL);
  } else {
    num[i] = acc;
    den[i] = d;
  }
}

// Probe element i = (mode m, pixel r = ry·w + rx) as (m, r, ry, rx).
fn probe_pixel(i: u32) -> vec4u {
  let hw = p.h * p.w;
  let m = i / hw;
  let r = i - m * hw;
  let ry = r / p.w;
  return vec4u(m, r, ry, r - ry * p.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = p.h * p.w;
  if (i >= p.modes * hw) { return; }
  let px = probe_pixel(i);
  let m = px.x;
  let r = px.y;
  let ry = px.z;
  let rx = px.w;
  var acc = vec2f(0.0);
  var d = 0.0;
  for (var k = 0u; k < p.n_frames; k++) {
    let v = object_view(pos[p.frame0 + k], ry, rx, p.cols);
    acc += cmul_conj(psi[(k * p.modes + m) * hw + r], v);
    d += cabs2(v);
  }
  finish(i, ry, rx, acc, d);
}

@compute @workgroup_size(WG)
fn main_fused(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = p.h * p.w;
  if (i >= p.modes * hw) { return; }
  let px = probe_pixel(i);
  let m = px.x;
  let r = px.y;
  let ry = px.z;
  let rx = px.w;
  let pm = probe[i];
  var acc = vec2f(0.0);
  var d = 0.0;
  for (var k = 0u; k < p.n_frames; k++) {
    let fp = pos[p.frame0 + k];
    let v = object_view(fp, ry, rx, p.cols);
    let dj = psi[(k * p.modes + m) * hw + r] - cmul(pm, v - old_object_view(fp, ry, rx, p.cols));
    acc += cmul_conj(dj, v);
    d += cabs2(v);
  }
  finish(i, ry, rx, acc, d);
}
