// ePIE / rPIE (Maiden & Rodenburg 2009; Maiden, Johnson & Li 2017), SEQUENTIAL over frames on the
// GPU: the host records, for every frame of the (seeded random) order, the chain
//   epie_view → FFT → epie_modulus → inverse FFT → epie_max → epie_update → epie_advance
// in one compute pass; a step counter in `state` (advanced on the GPU) says which entry of `order`
// is current, so no per-frame uniforms are needed. Whole-pixel positions (views are exact
// sub-arrays of the object), one probe mode.
//
//   ψ_j = P · O_j,  ψ'_j = F⁻¹ Π_F F ψ_j,  Δ = ψ'_j − ψ_j
//   O_j ← O_j + α · P̄ Δ / ((1 − γ)|P|² + γ max|P|²)      (γ = 1: ePIE; 0 < γ < 1: rPIE)
//   P   ← P   + β · Ō_j Δ / ((1 − γ)|O_j|² + γ max|O_j|²)   (from the iteration probe updates start)
// The probe update uses the object view from before this frame's object update.
//#include "common/complex.wgsl"
//#include "ptycho/modulus_common.wgsl"

struct Params {
  hw: u32,
  w: u32,
  cols: u32,
  probe_on: u32,
  alpha: f32,
  beta: f32,
  gamma: f32,
  inv_mask_sum: f32,
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

var<workgroup> red: array<f32, WG>;

// ---- epie_view: wave = P · O_j, view = O_j
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> corner: array<vec2i>;   // per frame: (row, col) of the view
@group(0) @binding(4) var<storage, read_write> obj: array<vec2f>;
@group(0) @binding(5) var<storage, read_write> probe: array<vec2f>;
@group(0) @binding(6) var<storage, read_write> wave: array<vec2f>;
@group(0) @binding(7) var<storage, read_write> view: array<vec2f>;
@group(0) @binding(8) var<storage, read> mag: array<f32>;          // [n, hw] √I
@group(0) @binding(9) var<storage, read> mask: array<f32>;         // [hw]
@group(0) @binding(10) var<storage, read_write> err: array<f32>;   // [n]

fn current_frame() -> u32 {
  return order[state.step];
}

fn object_index(j: u32, r: u32) -> u32 {
  let c = corner[j];
  let ry = r / p.w;
  let rx = r - ry * p.w;
  return u32(c.x + i32(ry)) * p.cols + u32(c.y + i32(rx));
}

@compute @workgroup_size(WG)
fn epie_view(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.hw) { return; }
  let j = current_frame();
  let o = obj[object_index(j, r)];
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

// One workgroup: max|P|² and max|O_j|² for the step sizes.
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

@compute @workgroup_size(WG)
fn epie_update(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.hw) { return; }
  let j = current_frame();
  let pv = probe[r];
  let ov = view[r];
  let d = wave[r] - cmul(pv, ov);
  let q = object_index(j, r);
  obj[q] = ov + (p.alpha / ((1.0 - p.gamma) * cabs2(pv) + p.gamma * state.pmax + 1e-30)) * cmul_conj(d, pv);
  if (p.probe_on == 1u) {
    probe[r] = pv + (p.beta / ((1.0 - p.gamma) * cabs2(ov) + p.gamma * state.omax + 1e-30)) * cmul_conj(d, ov);
  }
}

@compute @workgroup_size(1)
fn epie_advance() {
  state.step = state.step + 1u;
}
