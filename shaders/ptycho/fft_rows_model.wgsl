// Fused exit-wave model + FFT row pass: the forward row transform of x_jm = P_m · S_j O, with the
// model computed in the loads (fft_input) instead of a separate pass writing x and the row pass
// reading it back. Same workgroup layout, bindings 0–1 and twiddles as fft/rows.wgsl; the
// column pass (fft/cols.wgsl) follows unchanged. The chunk of exit waves [frames, modes, h, w]
// is bound as `data` (images = frames·modes, one row of FFT_N = w points per line).
//#include "fft/fft_io.wgsl"
//#include "ptycho/sample.wgsl"

// The frame height and mode count are pipeline constants (FRAME_H, MODES below; the width is FFT_N).
struct ModelParams {
  cols: u32,      // object row length
  frame0: u32,    // global index of the chunk's first frame
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(2) var<uniform> mp: ModelParams;
@group(0) @binding(3) var<storage, read> probe: array<vec2f>;       // [modes, h, w]
@group(0) @binding(4) var<storage, read> obj: array<vec2f>;         // [rows, cols]
@group(0) @binding(5) var<storage, read> frame_pos: array<FramePos>; // all frames

// Probe modes and frame height (the engine's; the width is FFT_N): the loads' index arithmetic
// divides by constants.
override MODES: u32 = 1;
override FRAME_H: u32 = 128u;

// First chunk-local row of this workgroup.
var<private> row0: u32;

fn fft_input(line: u32, pos: u32) -> vec2f {
  let row = row0 + line;              // chunk-local row over [frames, modes, h]
  let image = row / FRAME_H;
  let ry = row - image * FRAME_H;
  let k = image / MODES;
  let m = image - k * MODES;
  let v = object_view(frame_pos[mp.frame0 + k], ry, pos, mp.cols);
  return cmul(probe[(m * FRAME_H + ry) * FFT_N + pos], v);
}

fn fft_output(line: u32, pos: u32, value: vec2f) {
  data[fft_base + line * FFT_N + (pos ^ store_mask())] = value * out_scale();
}

@compute @workgroup_size(FFT_WG)
fn fft_rows_model(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = group_index(wid, nwg);
  if (g >= params.groups) { return; }
  row0 = g * FFT_LINES;
  fft_base = params.offset + row0 * FFT_N;
  fft_run(tid);
}
