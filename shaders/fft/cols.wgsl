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

// Sets fft_base to this workgroup's tile of FFT_LINES adjacent columns; false for a workgroup past the end.
fn begin_cols(wid: vec3u, nwg: vec3u) -> bool {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return false; }
  let tiles = ROW_LEN / FFT_LINES;
  fft_base = params.offset + (g / tiles) * FFT_N * ROW_LEN + (g % tiles) * FFT_LINES;
  return true;
}

@compute @workgroup_size(FFT_WG)
fn fft_cols(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (!begin_cols(wid, nwg)) { return; }
  fft_run(tid);
}

// Lane pass: FFT_LINES = FFT_WG columns per workgroup, one per invocation (neighbouring
// invocations read and write neighbouring elements of every row).
@compute @workgroup_size(FFT_WG)
fn fft_cols_lanes(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (!begin_cols(wid, nwg)) { return; }
  fft_lane(tid);
}
