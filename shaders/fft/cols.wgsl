// FFT column pass: each workgroup transforms a tile of FFT_LINES adjacent columns of FFT_N =
// height points in place (FFT_INTERLEAVED = true: neighbouring invocations take neighbouring
// columns, so every row segment of the tile is read and written contiguously; no transpose).
// Inverse scales by 1/height.
//#include "fft/fft_io.wgsl"

fn fft_input(line: u32, pos: u32) -> vec2f {
  return data[fft_base + (pos ^ load_mask()) * ROW_LEN + line];
}

fn fft_output(line: u32, pos: u32, value: vec2f) {
  data[fft_base + (pos ^ store_mask()) * ROW_LEN + line] = value * out_scale();
}

@compute @workgroup_size(FFT_WG)
fn fft_cols(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return; }
  let tiles = ROW_LEN / FFT_LINES;
  fft_base = params.offset + (g / tiles) * FFT_N * ROW_LEN + (g % tiles) * FFT_LINES;
  fft_run(tid);
}

// Lane pass: a tile of FFT_LINES = FFT_WG adjacent columns per workgroup, one per invocation
// (neighbouring invocations read and write neighbouring elements of every row).
@compute @workgroup_size(FFT_WG)
fn fft_cols_lanes(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return; }
  let tiles = ROW_LEN / FFT_LINES;
  fft_base = params.offset + (g / tiles) * FFT_N * ROW_LEN + (g % tiles) * FFT_LINES;
  fft_lane(tid);
}
