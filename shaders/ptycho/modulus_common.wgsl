// The Fourier modulus constraint, shared by the DM/RAAR Fourier-space update and ePIE.
//
// For a model Φ (all probe modes at one detector pixel, amplitude a = sqrt(Σ_m |Φ_m|²)) and the
// measured amplitude s = √I, the projection is Π(Φ)_m = f · Φ_m with
//   f = (s + (a − s) · relax) / a      on good pixels (relax = 0: the plain modulus projection;
//                                       0 < relax < 1: PtyPy-style power bound, see fourier_update);
//   f = 1                              on masked pixels (they keep the model amplitude).
// A zero model stays zero (a is clamped below at 1e-20, so f·Φ = 0 there).
fn modulus_factor(a: f32, s: f32, good: f32, relax: f32) -> f32 {
  if (good == 0.0) {
    return 1.0;
  }
  return (s + (a - s) * relax) / max(a, 1e-20);
}
