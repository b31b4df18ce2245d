// ePIE / rPIE (Maiden & Rodenburg 2009; Maiden, Johnson & Li 2017), SEQUENTIAL over frames on the
// GPU: the host records, for every frame of the (seeded random) order, the chain
//   epie_view → FFT → epie_modulus → inverse FFT → epie_max → epie_step → epie_object → epie_advance
// in one compute pass; a step counter in `state` (advanced on the GPU) says which entry of `order`
// is current, so no per-frame uniforms are needed. One probe mode.
//
// Views are sub-pixel: V_j = S_j O, the bilinear view of ptycho/sample.wgsl (the same operator as
// DM/RAAR and the simulator); whole-pixel positions are the special case fy = fx = 0.
//
//   ψ_j = P · V_j,  ψ'_j = F⁻¹ Π_F F ψ_j,  Δ = ψ'_j − ψ_j
//   u   = α · P̄ Δ / ((1 − γ)|P|² + γ max|P|²)            (γ = 1: ePIE; 0 < γ < 1: rPIE)
//   O  ← O + S_jᵀ u                                        (the adjoint of the bilinear view)
//   P  ← P + β · V̄_j Δ / ((1 − γ)|V_j|² + γ max|V_j|²)    (from the iteration probe updates start)
// The probe update uses the view from before this frame's object update.
//
// Race freedom: epie_step works per view pixel r (it alone writes probe[r], and stores u in
// wave[r]); epie_object works per pixel of the frame's (h+1)×(w+1) object footprint and GATHERS
// the (up to) four view pixels whose bilinear taps reach it, so each object pixel has one writer.
// SUBPIXEL = 0 (every position whole, as the host decides): views are exact sub-arrays, and
// epie_step adds u to its own object pixel directly (no epie_object dispatch).
//#include "common/complex.wgsl"
//#include "ptycho/modulus_common.wgsl"
//#include "ptycho/sample.wgsl"

struct Params {
  hw: u32,
  w: u32,
  cols: u32,
  probe_on: u32,
  alpha: f32,
  beta: f32,
  gamma: f32,
  inv_mask_sum: f32,
  h: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct State {
  step: u32,
  pmax: f32,
  omax: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> state: State;

override WG: u32 = 256;   // power of two
override SUBPIXEL: u32 = 1u;

var<workgroup> red: array<f32, WG>;

@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> pos: array<FramePos>;      // per frame: floor and fraction of (row, col)
@group(0) @binding(4) var<storage, read_write> obj: array<vec2f>;   // [rows, cols]
@group(0) @binding(5) var<storage, read_write> probe: array<vec2f>; // [h, w]
@group(0) @binding(6) var<storage, read_write> wave: array<vec2f>;  // ψ, then ψ', then u (object increment per view pixel)
@group(0) @binding(7) var<storage, read_write> view: array<vec2f>;  // V_j before the update
@group(0) @binding(8) var<storage, read> mag: array<f32>;          // [n, hw] √I
@group(0) @binding(9) var<storage, read> mask: array<f32>;         // [hw]
@group(0) @binding(10) var<storage, read_write> err: array<f32>;   // [n]

fn current_frame() -> u32 {
  return order[state.step];
}

// ---- epie_view: view = S_j O (bilinear), wave = P · view
@compute @workgroup_size(WG)
fn epie_view(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.hw) { return; }
  let ry = r / p.w;
  let fp = pos[current_frame()];
  var o: vec2f;
  if (SUBPIXEL == 0u) {
    o = obj[view_base(fp, ry, r - ry * p.w, p.cols)];
  } else {
    o = object_view(fp, ry, r - ry * p.w, p.cols);
  }
  view[r] = o;
  wave[r] = cmul(probe[r], o);
}

fn workgroup_reduce(v: f32, lid: u32, is_max: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid] = select(red[lid] + red[lid + s], max(red[lid], red[lid + s]), is_max);
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// One workgroup: modulus projection of the current frame's spectrum and its Fourier error.
@compute @workgroup_size(WG)
fn epie_modulus(@builtin(local_invocation_index) lid: u32) {
  let j = current_frame();
  var e = 0.0;
  for (var r = lid; r < p.hw; r += WG) {
    let x = wave[r];
    let a = sqrt(cabs2(x));
    let s = mag[j * p.hw + r];
    let good = mask[r];
    e += good * (a - s) * (a - s);
    wave[r] = x * modulus_factor(a, s, good, 0.0);
  }
  let total = workgroup_reduce(e, lid, false);
  if (lid == 0u) {
    err[j] = total * p.inv_mask_sum;
  }
}

// One workgroup: max|P|² and max|V_j|² for the step sizes.
@compute @workgroup_size(WG)
fn epie_max(@builtin(local_invocation_index) lid: u32) {
  var pm = 0.0;
  var om = 0.0;
  for (var r = lid; r < p.hw; r += WG) {
    pm = max(pm, cabs2(probe[r]));
    om = max(om, cabs2(view[r]));
  }
  let a = workgroup_reduce(pm, lid, true);
  let b = workgroup_reduce(om, lid, true);
  if (lid == 0u) {
    state.pmax = a;
    state.omax = b;
  }
}

// Per view pixel: the object increment u (into wave; whole pixels: added to the object at once)
// and the probe update.
@compute @workgroup_size(WG)
fn epie_step(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.hw) { return; }
  let pv = probe[r];
  let ov = view[r];
  let d = wave[r] - cmul(pv, ov);
  let u = (p.alpha / ((1.0 - p.gamma) * cabs2(pv) + p.gamma * state.pmax + 1e-30)) * cmul_conj(d, pv);
  if (SUBPIXEL == 0u) {
    let ry = r / p.w;
    obj[view_base(pos[current_frame()], ry, r - ry * p.w, p.cols)] = ov + u;
  } else {
    wave[r] = u;
  }
  if (p.probe_on == 1u) {
    probe[r] = pv + (p.beta / ((1.0 - p.gamma) * cabs2(ov) + p.gamma * state.omax + 1e-30)) * cmul_conj(d, ov);
  }
}

// Per pixel (ly, lx) of the frame's (h+1)×(w+1) footprint: O += S_jᵀ u, gathering the view pixels
// (ly − a, lx − b), a, b ∈ {0, 1}, with the bilinear weights w_a(fy) w_b(fx).
@compute @workgroup_size(WG)
fn epie_object(@builtin(global_invocation_id) gid: vec3u) {
  let fw = p.w + 1u;
  let i = gid.x;
  if (i >= (p.h + 1u) * fw) { return; }
  let ly = i / fw;
  let lx = i - ly * fw;
  let fp = pos[current_frame()];
  var acc = vec2f(0.0);
  for (var a = 0u; a < 2u; a++) {
    if (ly < a || ly - a >= p.h) { continue; }
    let wy = select(1.0 - fp.fy, fp.fy, a == 1u);
    for (var b = 0u; b < 2u; b++) {
      if (lx < b || lx - b >= p.w) { continue; }
      let wx = select(1.0 - fp.fx, fp.fx, b == 1u);
      acc += (wy * wx) * wave[(ly - a) * p.w + lx - b];
    }
  }
  let q = view_base(fp, ly, lx, p.cols);
  obj[q] = obj[q] + acc;
}

@compute @workgroup_size(1)
fn epie_advance() {
  state.step = state.step + 1u;
}
