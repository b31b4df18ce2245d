// DM / RAAR exit-wave update carried out in Fourier space, fused with the modulus projection
// and the Fourier error. One workgroup per frame.
//
// The engine keeps the exit waves in Fourier space, Ψ_j = F ψ_j, and receives X_j = F(P·O_j)
// (the current model, just transformed). Per detector pixel and mode:
//   Φ  = (1 + α) X − α Ψ                         (α = 1: 2·P·O_j − ψ_j, the DM/RAAR reflection)
//   Ψ' = ca·Ψ + cb·X + cc·Π(Φ)                   (DM: 1, −1, 1;  RAAR(β): β, 1 − 2β, β)
// and writes Ψ' into `psi` (kept in Fourier space for the next iteration) and Ψ' (or, with
// X_OUT_DIFF, Ψ' − X) into `x`; the engine's inverse FFT of `x` then yields the real-space exit
// waves ψ'_j (or the overlap residual ψ'_j − P·S_j O) for the overlap projection, so one forward
// and one inverse FFT per frame and iteration suffice.
// Because F is linear this is the textbook update ψ' = ca ψ + cb P·O + cc F⁻¹Π(F(...)).
//
// Fourier error of frame j (of the current model X, i.e. of F(P·O_j) exactly):
//   err_j = Σ_k m_k (|X_k| − √I_k)² / Σ_k m_k          (|X_k|² = Σ_modes |X_mk|²)
// Power bound (POWER_BOUND): with e_Φ = Σ m (|Φ| − √I)² / Σ m, pixels are left unchanged when
// e_Φ ≤ pbound, else projected with relax = sqrt(pbound / e_Φ).
//#include "common/complex.wgsl"
//#include "ptycho/modulus_common.wgsl"

struct Params {
  hw: u32,
  frame0: u32,     // global index of the chunk's first frame
  n_frames: u32,   // frames in this chunk
  alpha: f32,
  ca: f32,
  cb: f32,
  cc: f32,
  pbound: f32,
  inv_mask_sum: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<vec2f>;    // [n_frames, modes, hw] in: X = F(P·O); out: Ψ'
@group(0) @binding(2) var<storage, read_write> psi: array<vec2f>;  // [n_frames, modes, hw] Ψ → Ψ'
@group(0) @binding(3) var<storage, read> mag: array<f32>;          // [n_frames, hw] √I
@group(0) @binding(4) var<storage, read> mask: array<f32>;         // [hw] 1 good, 0 bad
@group(0) @binding(5) var<storage, read_write> err: array<f32>;    // [n] per-frame Fourier error (indexed frame0 + k)

override WG: u32 = 256;   // power of two
// Probe modes (the engine's): the loops over modes unroll,
// and with one mode the loads of x and psi are shared between them.
override MODES: u32 = 1;
override POWER_BOUND: bool = false;
// true: x ← Ψ' − X, whose inverse FFT is the overlap residual D = ψ' − P·S_j O directly
// (residual-form overlap projection); false: x ← Ψ' (real-space exit waves after the inverse FFT).
override X_OUT_DIFF: bool = false;

var<workgroup> red: array<f32, WG>;

// Deterministic tree sum over the workgroup (same order every run).
fn workgroup_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x + wid.y * nwg.x;
  if (k >= p.n_frames) { return; }
  let frame_base = k * MODES * p.hw;
  let mag_base = k * p.hw;
  let alpha = p.alpha;

  var relax = 0.0;
  if (POWER_BOUND) {
    var dev = 0.0;
    for (var r = lid; r < p.hw; r += WG) {
      var a2 = 0.0;
      for (var m = 0u; m < MODES; m++) {
        let idx = frame_base + m * p.hw + r;
        a2 += cabs2((1.0 + alpha) * x[idx] - alpha * psi[idx]);
      }
      let d = sqrt(a2) - mag[mag_base + r];
      dev += mask[r] * d * d;
    }
    let e_phi = workgroup_sum(dev, lid) * p.inv_mask_sum;
    if (e_phi > p.pbound) {
      relax = sqrt(p.pbound / e_phi);
    } else {
      relax = 1.0;
    }
  }

  var e = 0.0;
  for (var r = lid; r < p.hw; r += WG) {
    var x2 = 0.0;
    var a2 = 0.0;
    for (var m = 0u; m < MODES; m++) {
      let idx = frame_base + m * p.hw + r;
      let xv = x[idx];
      x2 += cabs2(xv);
      a2 += cabs2((1.0 + alpha) * xv - alpha * psi[idx]);
    }
    let s = mag[mag_base + r];
    let good = mask[r];
    let d = sqrt(x2) - s;
    e += good * d * d;
    let f = modulus_factor(sqrt(a2), s, good, relax);
    for (var m = 0u; m < MODES; m++) {
      let idx = frame_base + m * p.hw + r;
      let xv = x[idx];
      let pv = psi[idx];
      let phi = (1.0 + alpha) * xv - alpha * pv;
      let updated = p.ca * pv + p.cb * xv + (p.cc * f) * phi;
      psi[idx] = updated;
      x[idx] = select(updated, updated - xv, X_OUT_DIFF);
    }
  }
  let total = workgroup_sum(e, lid);
  if (lid == 0u) {
    err[p.frame0 + k] = total * p.inv_mask_sum;
  }
}
