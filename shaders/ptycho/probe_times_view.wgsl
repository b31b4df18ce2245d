// Exit-wave model ψ_jm = P_m · S_j O for every frame j of a chunk and every probe mode m
// (entry `model`). The residual-form overlap projection (sub-pixel positions) receives the
// residual D_jm = ψ_jm − P_m · S_j O from the inverse FFT and keeps it current after each
// half-step with:
//   delta_object: D_jm −= P_m · S_j(O − O_old)      (src = O_old, the object before the step)
//   delta_probe:  D_jm −= (P_m − P_old,m) · S_j O    (src = P_old)
//#include "common/index.wgsl"
//#include "common/complex.wgsl"
//#include "ptycho/sample.wgsl"

// The frame size and mode count are pipeline constants (FRAME_H, FRAME_W, MODES below).
struct Params {
  cols: u32,      // object row length
  frame0: u32,    // global index of the chunk's first frame
  n_frames: u32,  // frames in this chunk
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<vec2f>;   // out: [n_frames, modes, h, w]
@group(0) @binding(2) var<storage, read> probe: array<vec2f>;     // [modes, h, w]
@group(0) @binding(3) var<storage, read> obj: array<vec2f>;       // [rows, cols]
@group(0) @binding(4) var<storage, read> pos: array<FramePos>;    // all frames
@group(0) @binding(5) var<storage, read> src: array<vec2f>;       // delta entries: O_old or P_old

override WG: u32 = 64;
// Probe modes (the engine's): loops over modes unroll.
override MODES: u32 = 1;
// Frame size (powers of two, the engine's): index arithmetic divides by constants (shifts), not by
// uniform values (a division per lane on software adapters).
override FRAME_H: u32 = 128u;
override FRAME_W: u32 = 128u;

fn frame_pixel(i: u32) -> vec3u {
  let hw = FRAME_H * FRAME_W;
  let k = i / hw;
  let r = i - k * hw;
  let ry = r / FRAME_W;
  return vec3u(k, r, ry);
}

@compute @workgroup_size(WG)
fn model(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = FRAME_H * FRAME_W;
  if (i >= p.n_frames * hw) { return; }
  let f = frame_pixel(i);
  let v = object_view(pos[p.frame0 + f.x], f.z, f.y - f.z * FRAME_W, p.cols);
  for (var m = 0u; m < MODES; m++) {
    x[(f.x * MODES + m) * hw + f.y] = cmul(probe[m * hw + f.y], v);
  }
}

// Bilinear view of the previous object (bound as `src`), same taps and weights as object_view.
fn old_view(fp: FramePos, ry: u32, rx: u32, cols: u32) -> vec2f {
  let b = view_base(fp, ry, rx, cols);
  return bilinear(src[b], src[b + 1u], src[b + cols], src[b + cols + 1u], fp);
}

@compute @workgroup_size(WG)
fn delta_object(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = FRAME_H * FRAME_W;
  if (i >= p.n_frames * hw) { return; }
  let f = frame_pixel(i);
  let fp = pos[p.frame0 + f.x];
  let rx = f.y - f.z * FRAME_W;
  let dv = object_view(fp, f.z, rx, p.cols) - old_view(fp, f.z, rx, p.cols);
  for (var m = 0u; m < MODES; m++) {
    let idx = (f.x * MODES + m) * hw + f.y;
    x[idx] = x[idx] - cmul(probe[m * hw + f.y], dv);
  }
}

@compute @workgroup_size(WG)
fn delta_probe(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = FRAME_H * FRAME_W;
  if (i >= p.n_frames * hw) { return; }
  let f = frame_pixel(i);
  let v = object_view(pos[p.frame0 + f.x], f.z, f.y - f.z * FRAME_W, p.cols);
  for (var m = 0u; m < MODES; m++) {
    let idx = (f.x * MODES + m) * hw + f.y;
    x[idx] = x[idx] - cmul(probe[m * hw + f.y] - src[m * hw + f.y], v);
  }
}
