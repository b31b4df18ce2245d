// Bindings and helpers shared by the FFT row and column passes (fft/rows.wgsl, fft/cols.wgsl):
// complex images, vec2f, C order [batch, height, width], transformed in place. Each pass has two
// entry points over the same hooks: the Stockham one (fft/stockham.wgsl: a workgroup shares its
// lines through workgroup memory) and the lane one (fft/lane.wgsl: one whole line per invocation,
// in registers, for FFT_N ≤ 128 on software adapters; there FFT_WG = FFT_LINES).
//#include "fft/stockham.wgsl"
//#include "fft/lane.wgsl"

struct Params {
  // Workgroups with work (the dispatch may round up).
  groups: u32,
  // Element (vec2f) offset of image 0 inside the bound range.
  offset: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> data: array<vec2f>;

// Row length (image width) in elements.
override ROW_LEN: u32 = 128u;
// ifftshift along the line on load / fftshift on store.
override SHIFT_LOAD: bool = false;
override SHIFT_STORE: bool = false;

// Element index of point 0 of line 0 of this workgroup.
var<private> fft_base: u32;

fn group_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn load_mask() -> u32 {
  return select(0u, FFT_N / 2u, SHIFT_LOAD);
}

fn store_mask() -> u32 {
  return select(0u, FFT_N / 2u, SHIFT_STORE);
}

// 1/N for the inverse (each pass scales by its own length), 1 for the forward.
fn out_scale() -> f32 {
  return select(1.0, 1.0 / f32(FFT_N), FFT_INVERSE);
}
