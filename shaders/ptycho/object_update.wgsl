// Overlap projection, object half: a race-free GATHER over the frames that cover each object
// pixel (no atomics), in a fixed order, so results are bit-identical run to run.
//
//   O(q) = (c_O·O(q) + Σ_j Σ_m [S_jᵀ(P̄_m ψ_jm)](q)) / (c_O + Σ_j Σ_m [S_jᵀ|P_m|²](q))
//
// or, with RESIDUAL (exit-wave input D_j = ψ_j − P·S_j O instead of ψ_j), the preconditioned
// step O(q) += Σ_j Σ_m [S_jᵀ(P̄_m D_jm)](q) / (c_O + Σ_j Σ_m [S_jᵀ|P_m|²](q)). The two agree for
// whole-pixel positions; for sub-pixel (bilinear) views Σ S_jᵀ|P|² S_j is not diagonal and
// repeated residual steps converge to the exact least-squares object (the diagonal
// Σ S_jᵀ|P|² majorises it, so the step is stable).
//
// S_j is the bilinear view operator of ptycho/sample.wgsl; its adjoint, seen from object pixel q,
// gathers the four view taps (q − (y0, x0) − (a, b)), a, b ∈ {0, 1}, weighted w_a(fy)·w_b(fx)
// (taps of zero weight are skipped, so integer positions cost one tap).
//
// One workgroup per TILE×TILE block of the object; it walks the block's frame list (CSR table
// built on the host, ascending frame index: src/ptycho/scan.ts tileFrameLists). Frames are
// processed in chunks (one binding of exit waves each): the sums of earlier chunks are carried in
// `num`/`den` (`first` = 0) and the last chunk (`last` = 1) writes the object.
//#include "common/complex.wgsl"
//#include "ptycho/sample.wgsl"
//#include "ptycho/finalize.wgsl"

struct Params {
  rows: u32,
  cols: u32,
  h: u32,
  w: u32,
  tiles_x: u32,
  frame0: u32,   // global index of the chunk's first frame (psi is bound from there)
  first: u32,    // 1: start the sums at zero
  last: u32,     // 1: write the object; 0: store the running sums
  c_o: f32,      // object inertia c_O
  amp_max: f32,  // object amplitude clip: |O| ≤ amp_max (0 = off)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> obj: array<vec2f>;      // [rows, cols]
@group(0) @binding(2) var<storage, read> probe: array<vec2f>;          // [modes, h, w]
@group(0) @binding(3) var<storage, read> psi: array<vec2f>;            // chunk [frames, modes, h, w]
@group(0) @binding(4) var<storage, read> pos: array<FramePos>;         // all frames
@group(0) @binding(5) var<storage, read> tile_start: array<u32>;       // [tiles + 1]
@group(0) @binding(6) var<storage, read> tile_frames: array<u32>;      // frame ids per tile
@group(0) @binding(7) var<storage, read_write> num: array<vec2f>;      // [rows, cols] running Σ S_jᵀ(P̄ψ)
@group(0) @binding(8) var<storage, read_write> den: array<f32>;        // [rows, cols] running Σ S_jᵀ|P|²

override TILE: u32 = 16;
override RESIDUAL: bool = false;
// Probe modes (the engine's): the loop over modes unrolls.
override MODES: u32 = 1;

fn tap_weight(a: i32, f: f32) -> f32 {
  return select(1.0 - f, f, a == 1);
}

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let qy = wid.y * TILE + lid.y;
  let qx = wid.x * TILE + lid.x;
  if (qy >= p.rows || qx >= p.cols) { return; }
  let t = wid.y * p.tiles_x + wid.x;
  let hw = p.h * p.w;
  var acc = vec2f(0.0);
  var d = 0.0;
  for (var i = tile_start[t]; i < tile_start[t + 1u]; i++) {
    let j = tile_frames[i];
    let fp = pos[j];
    let k = j - p.frame0;
    let dy = i32(qy) - fp.y0;
    let dx = i32(qx) - fp.x0;
    for (var a = 0; a < 2; a++) {
      let ry = dy - a;
      let wy = tap_weight(a, fp.fy);
      if (ry < 0 || ry >= i32(p.h) || wy == 0.0) { continue; }
      for (var b = 0; b < 2; b++) {
        let rx = dx - b;
        let wgt = wy * tap_weight(b, fp.fx);
        if (rx < 0 || rx >= i32(p.w) || wgt == 0.0) { continue; }
        let r = u32(ry) * p.w + u32(rx);
        for (var m = 0u; m < MODES; m++) {
          let pv = probe[m * hw + r];
          acc += wgt * cmul_conj(psi[(k * MODES + m) * hw + r], pv);
          d += wgt * cabs2(pv);
        }
      }
    }
  }
  let q = qy * p.cols + qx;
  if (p.first == 0u) {
    acc = num[q] + acc;
    d = den[q] + d;
  }
  if (p.last == 1u) {
    obj[q] = finalize_object(obj[q], acc, d, p.c_o, p.amp_max, RESIDUAL);
  } else {
    num[q] = acc;
    den[q] = d;
  }
}
