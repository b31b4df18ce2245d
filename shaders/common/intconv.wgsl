// Float → integer conversions for values known to be whole and small (|x| < 2²²): adding
// 1.5·2²³ puts the integer x in the float's mantissa exactly, so a bitcast and a subtraction
// give it. WGSL's i32(f32) saturates, which lavapipe (llvmpipe) compiles to eight scalar
// conversions per SIMD vector; this stays two vector instructions (one more than a GPU's
// conversion, which costs nothing that matters there).

// x, which must be a whole number with |x| < 2²², as an i32.
fn whole_to_i32(x: f32) -> i32 {
  return bitcast<i32>(x + 12582912.0) - 0x4B400000;
}

// ⌊x⌋ as an i32, for |x| < 2²².
fn floor_i32(x: f32) -> i32 {
  return whole_to_i32(floor(x));
}

// ⌈x⌉ as an i32, for |x| < 2²².
fn ceil_i32(x: f32) -> i32 {
  return whole_to_i32(ceil(x));
}
