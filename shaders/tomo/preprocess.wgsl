// Projection preprocessing: averaging dark/flat frames, dark/flat normalisation and -log.
// Host wrapper: src/tomo/preprocess.ts (which documents the guard rules).
//#include "common/index.wgsl"
//#include "common/finite.wgsl"

override WG: u32 = 256;

// ---- average_frames: out[i] = (1/n_frames) * sum_k frames[k * frame_size + i]

struct AverageParams {
  n_frames: u32,
  frame_size: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> ap: AverageParams;
@group(0) @binding(1) var<storage, read> frames: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean_out: array<f32>;

@compute @workgroup_size(WG)
fn average_frames(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  if (i >= ap.frame_size) { return; }
  var s = 0.0;
  for (var k = 0u; k < ap.n_frames; k++) {
    s += frames[k * ap.frame_size + i];
  }
  mean_out[i] = s / f32(ap.n_frames);
}

// ---- normalize_projections: in place over a chunk of whole projections.
//   t = (p - dark) / (flat - dark)      when flat - dark > 0 and the quotient is finite,
//   t = 1                               otherwise (a dead or saturated flat pixel carries no
//                                        information: it is taken as not attenuating);
//   out = t, or with LOG: out = -log(max(t, log_floor)).
// flags: bit 0 = normalise by dark/flat, bit 1 = take -log. Non-finite input gives t = 1.

struct NormalizeParams {
  n: u32,           // elements in this chunk (a whole number of frames)
  frame_size: u32,  // rows * cols
  flags: u32,
  log_floor: f32,
}

@group(0) @binding(0) var<uniform> np: NormalizeParams;
@group(0) @binding(1) var<storage, read_write> data: array<f32>;
@group(0) @binding(2) var<storage, read> dark: array<f32>;
@group(0) @binding(3) var<storage, read> flat_field: array<f32>;

@compute @workgroup_size(WG)
fn normalize_projections(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  if (i >= np.n) { return; }
  var t = data[i];
  if ((np.flags & 1u) != 0u) {
    let j = i % np.frame_size;
    let d = dark[j];
    let den = flat_field[j] - d;
    if (den > 0.0 && is_finite_f32(den)) {
      t = (t - d) / den;
    } else {
      t = 1.0;
    }
  }
  if (!is_finite_f32(t)) { t = 1.0; }
  if ((np.flags & 2u) != 0u) {
    t = -log(max(t, np.log_floor));
  }
  data[i] = t;
}
