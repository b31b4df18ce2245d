// The block-iterative sweep (sweep_packed.wgsl) with four slices per vec4f: on a CPU adapter one access moves four slices.
alias SV = vec4f;
const LANES = 4u;

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
