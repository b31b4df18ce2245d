// Where the FBP row filters (fbp_filter.wgsl, fbp_filter_fft.wgsl, fbp_filter_stockham.wgsl) write the filtered value of
// detector row r, angle a, column x: sinogram-major [rows, angles, cols] when OUT_LANES = 1, or
// with OUT_LANES > 1 the rows interleaved in groups of OUT_LANES (group g = r / OUT_LANES holds
// [angles, cols] values of OUT_LANES rows each), which fbp_backproject2/4/8.wgsl read as one
// vec2f/vec4f/mat2x4f per (angle, column): every access and index computation then serves
// OUT_LANES slices (software adapters).
override OUT_LANES: u32 = 1u;

fn sino_index(r: u32, a: u32, x: u32, angles: u32, cols: u32) -> u32 {
  let g = r / OUT_LANES;
  return ((g * angles + a) * cols + x) * OUT_LANES + (r - g * OUT_LANES);
}
