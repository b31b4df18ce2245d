// FFT row pass: each workgroup transforms FFT_LINES consecutive rows of FFT_N = width points in
// place (FFT_INTERLEAVED = false). Inverse scales by 1/width.
//#include "fft/fft_io.wgsl"

fn fft_input(line: u32, pos: u32) -> vec2f {
  return data[fft_base + line * FFT_N + (pos ^ load_mask())];
}

fn fft_output(line: u32, pos: u32, value: vec2f) {
  data[fft_base + line * FFT_N + (pos ^ store_mask())] = value * out_scale();
}

// Sets fft_base to this workgroup's FFT_LINES consecutive rows; false for a workgroup past the end.
fn begin_rows(wid: vec3u, nwg: vec3u) -> bool {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return false; }
  fft_base = params.offset + g * FFT_LINES * FFT_N;
  return true;
}

@compute @workgroup_size(FFT_WG)
fn fft_rows(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (!begin_rows(wid, nwg)) { return; }
  fft_run(tid);
}

// Lane pass: FFT_LINES = FFT_WG rows per workgroup, one per invocation.
@compute @workgroup_size(FFT_WG)
fn fft_rows_lanes(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (!begin_rows(wid, nwg)) { return; }
  fft_lane(tid);
}
