// Finiteness test that survives fast-math: looks at the exponent bits, so a compiler cannot
// fold it away the way it may fold `x != x`.

fn is_finite_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}
