// Overlap projection, probe half, step 1 of 2: partial sums over GROUPS OF FRAMES. Invocation
// (g, i) with i = (mode m, probe pixel r) sums the frames k of group g, k in
// [g·per_group, min((g + 1)·per_group, n_frames)), in ascending order:
//
//   part[g, i] = (Σ_k conj(O_k(r)) ψ_km(r), Σ_k |O_k(r)|², 0)
//
// (with RESIDUAL input D_k = ψ_k − P·O_k the same form), O_k the bilinear view of the object
// (ptycho/sample.wgsl). probe_update.wgsl then adds the groups in ascending order and finalises:
// deterministic (no atomics), and a chunk of n frames runs on groups × modes·h·w invocations
// instead of modes·h·w invocations that each walk all n frames (a 128² probe has only 16,384
// pixels, too few to fill a GPU).
//#include "common/index.wgsl"
//#include "common/complex.wgsl"
//#include "ptycho/sample.wgsl"

// The frame size and mode count are pipeline constants (FRAME_H, FRAME_W, MODES below).
struct Params {
  cols: u32,       // object row length
  frame0: u32,     // global index of the chunk's first frame
  n_frames: u32,   // frames in this chunk
  groups: u32,     // frame groups
  per_group: u32,  // frames per group (the last may have fewer)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> obj: array<vec2f>;          // [rows, cols]
@group(0) @binding(2) var<storage, read> psi: array<vec2f>;          // chunk [frames, modes, h, w]
@group(0) @binding(3) var<storage, read> pos: array<FramePos>;       // all frames
@group(0) @binding(4) var<storage, read_write> part: array<vec4f>;   // [groups, modes·h·w]
// Entry `main_fused` (residual form, fused with the object half-step just before): `psi` holds D
// from before the object changed, and D_km − P_m·S_k(O − O_old) is formed on the fly.
@group(0) @binding(5) var<storage, read> probe: array<vec2f>;        // [modes, h, w] (main_fused only)
@group(0) @binding(6) var<storage, read> obj_old: array<vec2f>;      // [rows, cols] (main_fused only)

override WG: u32 = 64;
// Probe modes (the engine's): constant index arithmetic.
override MODES: u32 = 1;
// Frame size (powers of two, the engine's): index arithmetic divides by constants (shifts), not by
// uniform values (a division per lane on software adapters).
override FRAME_H: u32 = 128u;
override FRAME_W: u32 = 128u;

fn old_object_view(fp: FramePos, ry: u32, rx: u32, cols: u32) -> vec2f {
  let b = view_base(fp, ry, rx, cols);
  return bilinear(obj_old[b], obj_old[b + 1u], obj_old[b + cols], obj_old[b + cols + 1u], fp);
}

// Invocation j as (group g, element i, mode m, pixel r, row ry, column rx), or none past the end.
struct Item {
  g: u32,
  i: u32,
  m: u32,
  r: u32,
  ry: u32,
  rx: u32,
}

fn item(j: u32) -> Item {
  let hw = FRAME_H * FRAME_W;
  let total = MODES * hw;
  let g = j / total;
  let i = j - g * total;
  let m = i / hw;
  let r = i - m * hw;
  let ry = r / FRAME_W;
  return Item(g, i, m, r, ry, r - ry * FRAME_W);
}

fn group_end(g: u32) -> u32 {
  return min(p.n_frames, (g + 1u) * p.per_group);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = linear_index(gid, nwg, WG);
  if (j >= p.groups * MODES * FRAME_H * FRAME_W) { return; }
  let it = item(j);
  let hw = FRAME_H * FRAME_W;
  var acc = vec2f(0.0);
  var d = 0.0;
  for (var k = it.g * p.per_group; k < group_end(it.g); k++) {
    let v = object_view(pos[p.frame0 + k], it.ry, it.rx, p.cols);
    acc += cmul_conj(psi[(k * MODES + it.m) * hw + it.r], v);
    d += cabs2(v);
  }
  part[j] = vec4f(acc, d, 0.0);
}

@compute @workgroup_size(WG)
fn main_fused(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = linear_index(gid, nwg, WG);
  if (j >= p.groups * MODES * FRAME_H * FRAME_W) { return; }
  let it = item(j);
  let hw = FRAME_H * FRAME_W;
  let pm = probe[it.i];
  var acc = vec2f(0.0);
  var d = 0.0;
  for (var k = it.g * p.per_group; k < group_end(it.g); k++) {
    let fp = pos[p.frame0 + k];
    let v = object_view(fp, it.ry, it.rx, p.cols);
    let dk = psi[(k * MODES + it.m) * hw + it.r] - cmul(pm, v - old_object_view(fp, it.ry, it.rx, p.cols));
    acc += cmul_conj(dk, v);
    d += cabs2(v);
  }
  part[j] = vec4f(acc, d, 0.0);
}
