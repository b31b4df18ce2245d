// The closing step of each half of the overlap projection, shared by the single-device kernels
// (object_update.wgsl, probe_update.wgsl) and the all-reduce kernels of the multi-device path
// (reduce_object.wgsl, reduce_probe.wgsl), so both finalise with exactly the same arithmetic.
//
//   closed form:   v' = (c·v + acc) / (c + d)
//   residual form: v' = v + acc / (c + d)
// with acc = Σ conj(partner)·wave and d = Σ |partner|² over every contributing frame.

fn finalize_value(v: vec2f, acc: vec2f, d: f32, c: f32, residual: bool) -> vec2f {
  if (residual) {
    return v + acc / (c + d);
  }
  return (c * v + acc) / (c + d);
}

// Object: optional amplitude clip |O| ≤ amp_max (0 = off; a physical constraint for transmission objects).
fn finalize_object(o_in: vec2f, acc: vec2f, d: f32, c_o: f32, amp_max: f32, residual: bool) -> vec2f {
  var o = finalize_value(o_in, acc, d, c_o, residual);
  let a = length(o);
  if (amp_max > 0.0 && a > amp_max) {
    o = o * (amp_max / a);
  }
  return o;
}

// Probe element i of [modes, h, w] (pixel r = i mod h·w at row ry, column rx): optional real-space
// support, zero outside a disc of radius `support` around (h/2, w/2) (0 = off).
fn finalize_probe(p_in: vec2f, acc: vec2f, d: f32, c_p: f32, support: f32, i: u32, h: u32, w: u32, residual: bool) -> vec2f {
  var pv = finalize_value(p_in, acc, d, c_p, residual);
  let r = i % (h * w);
  let ry = r / w;
  let dy = f32(ry) - f32(h / 2u);
  let dx = f32(r - ry * w) - f32(w / 2u);
  if (support > 0.0 && dy * dy + dx * dx > support * support) {
    pv = vec2f(0.0);
  }
  return pv;
}
