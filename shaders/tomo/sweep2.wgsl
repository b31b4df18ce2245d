// The block-iterative sweep (sweep_packed.wgsl) with two slices per vec2f.
alias SV = vec2f;
const LANES = 2u;

fn splat(v: f32) -> SV {
  return SV(v);
}

fn clamp_below(x: SV, lo: f32) -> SV {
  return max(x, SV(lo));
}

fn sum_squares(r: SV) -> f32 {
  return dot(r, r);
}

//#include "tomo/sweep_packed.wgsl"
