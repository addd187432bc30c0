// WGSL helper functions a kernel may call, each emitted only when used. They give WGSL's builtins the
// semantics of the eager kernels: PyTorch's floor division and modulo, C's pow, NaN-propagating
// maximum/minimum, saturating float → int casts, and accurate tanh/expm1/log1p/erf near zero.
// NaN and infinity tests look at the bits, which no shader compiler may fold away.

const HELPERS = {
  kiln_inf_bits: { deps: [], code: `var<private> kiln_inf_bits: u32 = 0x7f800000u;` },
  kiln_nan_bits: { deps: [], code: `var<private> kiln_nan_bits: u32 = 0x7fc00000u;` },
  kiln_isnan: {
    deps: [],
    code: `fn kiln_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  },
  kiln_isinf: {
    deps: [],
    code: `fn kiln_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }`,
  },
  kiln_idiv: {
    deps: [],
    code: `fn kiln_idiv(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) { return q - 1; }
  return q;
}`,
  },
  kiln_imod: {
    deps: [],
    code: `fn kiln_imod(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let r = a % b;
  if ((r != 0) && ((r < 0) != (b < 0))) { return r + b; }
  return r;
}`,
  },
  // IEEE division by zero (±inf, NaN for 0/0 and NaN/0): lavapipe's a / 0.0 gave 0 or a denormal, so a
  // zero divisor never reaches the hardware division.
  kiln_fdiv: {
    deps: ['kiln_isnan', 'kiln_inf_bits', 'kiln_nan_bits'],
    code: `fn kiln_fdiv(a: f32, b: f32) -> f32 {
  if (b == 0.0) {
    if (a == 0.0 || kiln_isnan(a)) { return bitcast<f32>(kiln_nan_bits); }
    return bitcast<f32>(((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u) | kiln_inf_bits);
  }
  return a / b;
}`,
  },
  // Python's remainder as eager computes it: C's fmod (an infinite divisor leaves a finite a as it is),
  // then moved to the divisor's sign.
  kiln_fmod: {
    deps: ['kiln_fdiv', 'kiln_isinf', 'kiln_isnan'],
    code: `fn kiln_fmod(a: f32, b: f32) -> f32 {
  var r = a - b * trunc(kiln_fdiv(a, b));
  if (kiln_isinf(b) && !kiln_isinf(a) && !kiln_isnan(a)) { r = a; }
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { return r + b; }
  return r;
}`,
  },
  kiln_f2i: {
    deps: ['kiln_isnan'],
    code: `fn kiln_f2i(x: f32) -> i32 {
  if (kiln_isnan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return i32(-2147483648); }
  return i32(x);
}`,
  },
  kiln_fmax: {
    deps: ['kiln_isnan'],
    code: `fn kiln_fmax(a: f32, b: f32) -> f32 {
  if (kiln_isnan(a)) { return a; }
  if (kiln_isnan(b)) { return b; }
  return max(a, b);
}`,
  },
  kiln_fmin: {
    deps: ['kiln_isnan'],
    code: `fn kiln_fmin(a: f32, b: f32) -> f32 {
  if (kiln_isnan(a)) { return a; }
  if (kiln_isnan(b)) { return b; }
  return min(a, b);
}`,
  },
  // C pow: pow(x, 0) = pow(1, y) = 1 even for NaN; a negative base needs an integer exponent (odd keeps the
  // sign); small integer exponents multiply exactly, the rest go through exp2(y * log2|x|).
  kiln_pow: {
    deps: ['kiln_isnan', 'kiln_isinf', 'kiln_nan_bits'],
    code: `fn kiln_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (kiln_isnan(a) || kiln_isnan(b)) { return a + b; }
  let m = abs(a);
  if (kiln_isinf(b)) {
    if (m == 1.0) { return 1.0; }
    return select(0.0, b * b, (m > 1.0) == (b > 0.0));
  }
  let integral = trunc(b) == b;
  let odd = integral && abs(b) < 16777216.0 && trunc(b * 0.5) * 2.0 != b;
  var r: f32;
  if (integral && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = m;
    r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (b < 0.0) { r = 1.0 / r; }
  } else {
    r = exp2(b * log2(m));
  }
  let negative = (bitcast<u32>(a) & 0x80000000u) != 0u;
  if (negative && !integral) { return bitcast<f32>(kiln_nan_bits); }
  if (negative && odd) { return -r; }
  return r;
}`,
  },
  kiln_expm1: {
    deps: ['kiln_isinf'],
    code: `fn kiln_expm1(x: f32) -> f32 {
  let u = exp(x);
  if (u == 1.0) { return x; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  if (kiln_isinf(u)) { return u; }
  return um1 * x / log(u);
}`,
  },
  kiln_log1p: {
    deps: ['kiln_isinf'],
    code: `fn kiln_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (kiln_isinf(u)) { return u; }
  return log(u) * x / (u - 1.0);
}`,
  },
  kiln_tanh: {
    deps: ['kiln_expm1'],
    code: `fn kiln_tanh(x: f32) -> f32 {
  let a = abs(x);
  if (a == 0.0) { return x; }
  let t = kiln_expm1(-2.0 * a);
  let r = -t / (2.0 + t);
  return select(r, -r, x < 0.0);
}`,
  },
  // |x| < 0.5: the Taylor series to x^11 (error < 2e-8); elsewhere Abramowitz & Stegun 7.1.26 (absolute
  // error < 1.5e-7, relative < 3e-7 there since erf(0.5) > 0.52).
  kiln_erf: {
    deps: [],
    code: `fn kiln_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let z = x * x;
    return x * (1.1283791671 + z * (-0.3761263890 + z * (0.1128379167 + z * (-0.0268661706 + z * (0.0052239776 + z * -0.0008548327)))));
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let y = 1.0 - p * exp(-a * a);
  return select(y, -y, x < 0.0);
}`,
  },
} satisfies Record<string, { deps: string[]; code: string }>;

export type HelperName = keyof typeof HELPERS;

/** The helpers one shader uses, in an order where each comes after what it calls. */
export class Prelude {
  private readonly used = new Set<HelperName>();

  use(name: HelperName): HelperName {
    if (!this.used.has(name)) {
      for (const d of HELPERS[name].deps) this.use(d as HelperName);
      this.used.add(name);
    }
    return name;
  }

  text(): string {
    return [...this.used].map((n) => HELPERS[n].code).join('\n');
  }
}
