// Batched 2-D FFT passes over complex images (vec2f, C order [batch, height, width]), in place:
// each workgroup reads its lines into workgroup memory, transforms them (fft/stockham.wgsl) and
// writes them back to the same places, so no global scratch is needed.
//   fft_rows: FFT_LINES consecutive rows of FFT_N = width points (contiguous reads and writes).
//   fft_cols: a tile of FFT_LINES adjacent columns of FFT_N = height points; every row segment of
//             the tile is read and written contiguously (no transpose pass).
// Inverse passes scale by 1/FFT_N at the store, so rows then columns give 1/(H·W) in all.
// SHIFT_LOAD applies ifftshift along the line on load, SHIFT_STORE fftshift on store.
//#include "fft/stockham.wgsl"

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

// Row length (image width) in elements: the column pass's stride between points.
override ROW_LEN: u32 = 128u;
override SHIFT_LOAD: bool = false;
override SHIFT_STORE: bool = false;

fn group_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn load_mask() -> u32 {
  return select(0u, FFT_N / 2u, SHIFT_LOAD);
}

fn store_mask() -> u32 {
  return select(0u, FFT_N / 2u, SHIFT_STORE);
}

fn out_scale() -> f32 {
  return select(1.0, 1.0 / f32(FFT_N), FFT_INVERSE);
}

@compute @workgroup_size(FFT_WG)
fn fft_rows(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return; }
  let base = params.offset + g * FFT_LINES * FFT_N;
  let total = FFT_LINES * FFT_N;
  let lm = load_mask();
  for (var i = tid; i < total; i += FFT_WG) {
    let line = i / FFT_N;
    let pos = i % FFT_N;
    fft_sm[fft_slot(line, pos ^ lm)] = data[base + i];
  }
  let res = fft_run(tid);
  let sm = store_mask();
  let scale = out_scale();
  for (var i = tid; i < total; i += FFT_WG) {
    let line = i / FFT_N;
    let pos = i % FFT_N;
    data[base + i] = fft_sm[res + fft_slot(line, pos ^ sm)] * scale;
  }
}

@compute @workgroup_size(FFT_WG)
fn fft_cols(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return; }
  let tiles = ROW_LEN / FFT_LINES;
  let image = g / tiles;
  let base = params.offset + image * FFT_N * ROW_LEN + (g % tiles) * FFT_LINES;
  let total = FFT_LINES * FFT_N;
  let lm = load_mask();
  for (var i = tid; i < total; i += FFT_WG) {
    let pos = i / FFT_LINES;
    let line = i % FFT_LINES;
    fft_sm[fft_slot(line, pos ^ lm)] = data[base + pos * ROW_LEN + line];
  }
  let res = fft_run(tid);
  let sm = store_mask();
  let scale = out_scale();
  for (var i = tid; i < total; i += FFT_WG) {
    let pos = i / FFT_LINES;
    let line = i % FFT_LINES;
    data[base + pos * ROW_LEN + line] = fft_sm[res + fft_slot(line, pos ^ sm)] * scale;
  }
}
