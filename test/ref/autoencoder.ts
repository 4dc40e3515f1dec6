// A float64 tied-weight autoencoder written straight from docs/math.md §1–4, one example at a time: the
// oracle the batched WASM path is tested against. Slow and obvious on purpose.

/** h, H (antiderivative), h', h'' of one activation, in float64. */
export interface ActRef {
  h(u: number): number;
  H(u: number): number;
  d1(u: number): number;
}

export interface AeRef {
  D: number;
  H: number;
  W: Float64Array; // (H, D)
  bh: Float64Array; // (H)
  br: Float64Array; // (D)
  act: ActRef | "kmeans";
  output: "real" | "binary";
}

const sigma = (a: number): number => 1 / (1 + Math.exp(-a));
const xlogx = (x: number): number => (x === 0 ? 0 : x * Math.log(x));

/** u = W x + bh. */
export function netInput(m: AeRef, x: ArrayLike<number>): Float64Array {
  const u = new Float64Array(m.H);
  for (let k = 0; k < m.H; k++) {
    let s = m.bh[k];
    for (let j = 0; j < m.D; j++) s += m.W[k * m.D + j] * x[j];
    u[k] = s;
  }
  return u;
}

function nearest(m: AeRef, u: Float64Array): number {
  let best = 0;
  for (let k = 1; k < m.H; k++) if (u[k] > u[best]) best = k;
  return best;
}

/** The decoder's pre-output a = W^T h(u) + br (for k-means: the nearest filter). */
function decoderInput(m: AeRef, x: ArrayLike<number>): Float64Array {
  const u = netInput(m, x);
  const a = Float64Array.from(m.br);
  if (m.act === "kmeans") {
    const s = nearest(m, u);
    for (let j = 0; j < m.D; j++) a[j] = m.W[s * m.D + j];
    return a;
  }
  for (let k = 0; k < m.H; k++) {
    const hk = m.act.h(u[k]);
    for (let j = 0; j < m.D; j++) a[j] += m.W[k * m.D + j] * hk;
  }
  return a;
}

export function reconstructRef(m: AeRef, x: ArrayLike<number>): Float64Array {
  const a = decoderInput(m, x);
  return m.output === "binary" ? a.map(sigma) : a;
}

export function energyRef(m: AeRef, x: ArrayLike<number>): number {
  const u = netInput(m, x);
  if (m.act === "kmeans") {
    const s = nearest(m, u);
    let d = 0;
    for (let j = 0; j < m.D; j++) d += (x[j] - m.W[s * m.D + j]) ** 2;
    return -0.5 * d;
  }
  let e = 0;
  for (let k = 0; k < m.H; k++) e += m.act.H(u[k]);
  for (let j = 0; j < m.D; j++) {
    if (m.output === "real") e -= 0.5 * (x[j] - m.br[j]) ** 2;
    else e += m.br[j] * x[j] - xlogx(x[j]) - xlogx(1 - x[j]);
  }
  return e;
}

/** F(x) = r(x) − x (real) or ξ(r(x)) − ξ(x) (binary). */
export function fieldRef(m: AeRef, x: ArrayLike<number>): Float64Array {
  const a = decoderInput(m, x);
  return a.map((aj, j) => (m.output === "real" ? aj - x[j] : aj - Math.log(x[j] / (1 - x[j]))));
}

/** ΔE = Σ_k h'(u_k)‖w_k‖² − D (real) or − Σ_j 1/(x_j(1−x_j)) (binary); k-means: −D. */
export function laplacianRef(m: AeRef, x: ArrayLike<number>): number {
  if (m.act === "kmeans") return -m.D;
  const u = netInput(m, x);
  let s = 0;
  for (let k = 0; k < m.H; k++) {
    let c = 0;
    for (let j = 0; j < m.D; j++) c += m.W[k * m.D + j] ** 2;
    s += m.act.d1(u[k]) * c;
  }
  if (m.output === "real") return s - m.D;
  for (let j = 0; j < m.D; j++) s -= 1 / (x[j] * (1 - x[j]));
  return s;
}

/** Central finite differences of f at x, in float64: the gradient. */
export function numericGradient(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const p = Float64Array.from(x);
  for (let j = 0; j < x.length; j++) {
    const x0 = p[j];
    p[j] = x0 + h;
    const up = f(p);
    p[j] = x0 - h;
    const down = f(p);
    p[j] = x0;
    g[j] = (up - down) / (2 * h);
  }
  return g;
}

/**
 * The one finite-difference check of a backward pass: `got` (the gradient under test, in the order of
 * the float64 parameters p) against the central differences of the float64 loss f at p, entry by entry
 * within abs + rel·|fd|; a failure names the entry (`name(i)`, else its index).
 */
export function checkGradient(tag: string, got: ArrayLike<number>, f: (x: Float64Array) => number, p: ArrayLike<number>, tol: { abs: number; rel: number }, name = (i: number) => `parameter ${i}`): void {
  if (got.length !== p.length) throw new Error(`${tag}: ${got.length} gradient entries for ${p.length} parameters`);
  const fd = numericGradient(f, p, 1e-6);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - fd[i]) <= tol.abs + tol.rel * Math.abs(fd[i]))) throw new Error(`${tag}: ${name(i)} = ${got[i]}, finite differences ${fd[i]}`);
  }
}
