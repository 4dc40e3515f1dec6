// Elementwise kernels, f32. Each SIMD loop has a scalar tail doing the same operations, so the SIMD
// and scalar builds give bit-identical results. Outputs may alias inputs of the same index.

/** X(M,N) += alpha * b(N) broadcast to every row; row-major, contiguous. */
export function add_row_bias(X: usize, b: usize, alpha: f32, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    const row = X + (<usize>(i * N) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const va = f32x4.splat(alpha);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        v128.store(row + o, f32x4.add(v128.load(row + o), f32x4.mul(va, v128.load(b + o))));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + alpha * load<f32>(b + o));
    }
  }
}

/** y(n) += a * x(n). */
export function axpy(y: usize, a: f32, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** y(n) = a * y(n). */
export function scale(y: usize, a: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(va, v128.load(y + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, a * load<f32>(y + o));
  }
}

/** out(n) = a(n) * b(n); out may alias a or b. */
export function mul(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** out(n) = a(n) - b(n); out may alias a or b. */
export function sub(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) - load<f32>(b + o));
  }
}

/** SGD with momentum and L2 decay on n parameters: V = momentum*V - lr*(G + decay*W); W += V. */
export function sgd_momentum(W: usize, V: usize, G: usize, n: i32, lr: f32, momentum: f32, decay: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lr);
    const vm = f32x4.splat(momentum);
    const vd = f32x4.splat(decay);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const w = v128.load(W + o);
      const g = f32x4.add(v128.load(G + o), f32x4.mul(vd, w));
      const v = f32x4.sub(f32x4.mul(vm, v128.load(V + o)), f32x4.mul(vlr, g));
      v128.store(V + o, v);
      v128.store(W + o, f32x4.add(w, v));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(W + o);
    const g = load<f32>(G + o) + decay * w;
    const v = momentum * load<f32>(V + o) - lr * g;
    store<f32>(V + o, v);
    store<f32>(W + o, w + v);
  }
}
