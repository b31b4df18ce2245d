// Complex arithmetic on vec2f = (re, im). Included by FFT and ptychography kernels.

fn cmul(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// a * conj(b)
fn cmul_conj(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y);
}

fn conj(a: vec2f) -> vec2f {
  return vec2f(a.x, -a.y);
}

fn cabs2(a: vec2f) -> f32 {
  return dot(a, a);
}

// exp(i * phi)
fn cexp_i(phi: f32) -> vec2f {
  return vec2f(cos(phi), sin(phi));
}
