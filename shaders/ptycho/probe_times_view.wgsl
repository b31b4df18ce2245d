// Exit waves ψ_jm = P_m · O_j for every frame j of a chunk and every probe mode m, or (SUBTRACT)
// the residual update X_jm −= A_m · B_j, where A is probe-like and B object-like (bound to the
// same slots): used to form P·O_j before the forward FFT, and to keep the overlap residual
// D = ψ − P·O_j current after the object or probe changed (D −= P·S_jΔO, D −= ΔP·S_jO).
//#include "common/index.wgsl"
//#include "common/complex.wgsl"
//#include "ptycho/sample.wgsl"

struct Params {
  h: u32,
  w: u32,
  modes: u32,
  cols: u32,      // object row length
  frame0: u32,    // global index of the chunk's first frame
  n_frames: u32,  // frames in this chunk
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<vec2f>;   // [n_frames, modes, h, w]
@group(0) @binding(2) var<storage, read> probe: array<vec2f>;     // [modes, h, w]
@group(0) @binding(3) var<storage, read> obj: array<vec2f>;       // [rows, cols]
@group(0) @binding(4) var<storage, read> pos: array<FramePos>;    // all frames

override WG: u32 = 64;
override SUBTRACT: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  let hw = p.h * p.w;
  if (i >= p.n_frames * hw) { return; }
  let k = i / hw;
  let r = i - k * hw;
  let ry = r / p.w;
  let rx = r - ry * p.w;
  let v = object_view(pos[p.frame0 + k], ry, rx, p.cols);
  for (var m = 0u; m < p.modes; m++) {
    let idx = (k * p.modes + m) * hw + r;
    let pv = cmul(probe[m * hw + r], v);
    if (SUBTRACT) {
      x[idx] = x[idx] - pv;
    } else {
      x[idx] = pv;
    }
  }
}
