// Sub-pixel object views by BILINEAR INTERPOLATION (shared by the ptychography kernels).
//
// Frame j's view of the object is V_j(ry, rx) = Σ_{a,b∈{0,1}} w_a(fy) w_b(fx) O[y0+ry+a, x0+rx+b]
// with (y0, x0) = floor(position), (fy, fx) = its fractional part, w_0(f) = 1 − f, w_1(f) = f.
// The adjoint S_jᵀ spreads a frame value to the same four object pixels with the same weights;
// seen from object pixel q it gathers the four frame taps (q − (y0,x0) − (a,b)), see
// object_accumulate.wgsl. The scan geometry (src/ptycho/scan.ts) sizes the object so that the
// whole (h+1)×(w+1) footprint of every view lies inside it.
//
// The including file declares the object binding as `obj: array<vec2f>` ([rows, cols], C order).

struct FramePos {
  y0: i32,
  x0: i32,
  fy: f32,
  fx: f32,
}

// Object index of the top-left tap of view pixel (ry, rx) of a frame at `fp` (`cols` = row length).
fn view_base(fp: FramePos, ry: u32, rx: u32, cols: u32) -> u32 {
  return u32(fp.y0 + i32(ry)) * cols + u32(fp.x0 + i32(rx));
}

// Bilinear blend of the four taps (top-left, top-right, bottom-left, bottom-right).
fn bilinear(v00: vec2f, v01: vec2f, v10: vec2f, v11: vec2f, fp: FramePos) -> vec2f {
  return mix(mix(v00, v01, fp.fx), mix(v10, v11, fp.fx), fp.fy);
}

// Bilinear view of `obj` at view pixel (ry, rx) of a frame at `fp`.
fn object_view(fp: FramePos, ry: u32, rx: u32, cols: u32) -> vec2f {
  let b = view_base(fp, ry, rx, cols);
  return bilinear(obj[b], obj[b + 1u], obj[b + cols], obj[b + cols + 1u], fp);
}
