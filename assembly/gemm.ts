// GEMM: C = alpha * op(A) * op(B) + beta * C, f32, row-major.
//
// Dimensions: op(A) is M x K, op(B) is K x N, C is M x N. Strides (lda, ldb, ldc) count elements.
// transA = 0: A is stored M x K; transA = 1: A is stored K x M and op(A) = A^T. Likewise for B.
//
// Goto/BLIS blocking: a KC x NC block of op(B) is packed into 8-wide column panels, an MC x KC block of
// op(A) into 4-tall row panels, and a 4 x 8 register tile (eight f32x4 accumulators) sweeps them. V8 has
// 16 XMM registers: 8 accumulators + 2 B vectors + 1 broadcast A fit; larger tiles spill.
//
// Determinism: every C element is summed over k in increasing order inside a KC block, and the blocks
// are added to C in increasing order. SIMD lanes run over j, never over k, so the scalar build follows
// the same order and gives bit-identical results.

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;
const NC = 1024;

const BPACK_FLOATS = KC * NC;
const APACK_FLOATS = MC * KC;
const TILE_FLOATS = MR * NR;

/** Bytes of scratch `gemm` needs at `work` (fixed, independent of M, N, K). */
export function gemm_workspace_bytes(): i32 {
  return (BPACK_FLOATS + APACK_FLOATS + TILE_FLOATS) << 2;
}

/** C(M,N) = alpha*op(A)(M,K)*op(B)(K,N) + beta*C; row-major f32, strides in elements; work: gemm_workspace_bytes() scratch; C must not alias A, B or work. beta = 0 ignores C's old contents (NaN included). */
export function gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, work: usize,
): void {
  const Bp = work;
  const Ap = work + (<usize>BPACK_FLOATS << 2);
  const tile = Ap + (<usize>APACK_FLOATS << 2);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      packB(Bp, transB, B, ldb, pc, jc, kc, nc);
      const first = pc == 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(Ap, transA, A, lda, ic, pc, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpanel = Bp + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const apanel = Ap + (<usize>(ir * kc) << 2);
            const c = C + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            microkernel(kc, apanel, bpanel, c, ldc, mr, nr, alpha, first ? beta : 1, tile);
          }
        }
      }
    }
  }
}

// Packs op(B)[pc:pc+kc, jc:jc+nc] into panels of NR columns: panel p holds kc rows of NR floats
// (zero-padded past nc), so the micro-kernel reads B with unit stride.
function packB(Bp: usize, transB: i32, B: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const dst = Bp + (<usize>(jr * kc) << 2);
    if (transB == 0) {
      // op(B)[k, j] = B[k*ldb + j]: each panel row is contiguous.
      let src = B + (<usize>(pc * ldb + jc + jr) << 2);
      const step = <usize>ldb << 2;
      if (nr == NR) {
        for (let k = 0; k < kc; k++) {
          if (ASC_FEATURE_SIMD) {
            v128.store(dst + (<usize>k << 5), v128.load(src));
            v128.store(dst + (<usize>k << 5), v128.load(src, 16), 16);
          } else {
            for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>(k * NR + c) << 2), load<f32>(src + (<usize>c << 2)));
          }
          src += step;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>(k * NR + c) << 2), c < nr ? load<f32>(src + (<usize>c << 2)) : 0);
          }
          src += step;
        }
      }
    } else {
      // op(B)[k, j] = B[j*ldb + k]: each panel column is a contiguous row of B. Full panels move
      // 4 k at a time as two 4 x 4 transposes; the rest (and the scalar build) element by element.
      let k0 = 0;
      if (ASC_FEATURE_SIMD) {
        if (nr == NR) {
          const row0 = B + (<usize>((jc + jr) * ldb + pc) << 2);
          const step = <usize>ldb << 2;
          for (; k0 + 4 <= kc; k0 += 4) {
            const src = row0 + (<usize>k0 << 2);
            const d = dst + (<usize>k0 << 5);
            transpose4(d, NR << 2, src, step);
            transpose4(d + 16, NR << 2, src + 4 * step, step);
          }
        }
      }
      for (let c = 0; c < NR; c++) {
        if (c < nr) {
          const src = B + (<usize>((jc + jr + c) * ldb + pc) << 2);
          for (let k = k0; k < kc; k++) store<f32>(dst + (<usize>(k * NR + c) << 2), load<f32>(src + (<usize>k << 2)));
        } else {
          for (let k = k0; k < kc; k++) store<f32>(dst + (<usize>(k * NR + c) << 2), 0);
        }
      }
    }
  }
}

// Packs op(A)[ic:ic+mc, pc:pc+kc] into panels of MR rows: panel p holds kc columns of MR floats
// (zero-padded past mc).
function packA(Ap: usize, transA: i32, A: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const dst = Ap + (<usize>(ir * kc) << 2);
    if (transA == 1) {
      // op(A)[i, k] = A[k*lda + i]: the MR values of one k are contiguous.
      let src = A + (<usize>(pc * lda + ic + ir) << 2);
      const step = <usize>lda << 2;
      for (let k = 0; k < kc; k++) {
        if (mr == MR) {
          if (ASC_FEATURE_SIMD) {
            v128.store(dst + (<usize>k << 4), v128.load(src));
          } else {
            for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>(k * MR + r) << 2), load<f32>(src + (<usize>r << 2)));
          }
        } else {
          for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>(k * MR + r) << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
        }
        src += step;
      }
    } else {
      // op(A)[i, k] = A[i*lda + k]: rows are contiguous; transpose 4 x 4 blocks into the panel.
      const row0 = A + (<usize>((ic + ir) * lda + pc) << 2);
      const step = <usize>lda << 2;
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        if (mr == MR) {
          for (; k + 4 <= kc; k += 4) transpose4(dst + (<usize>k << 4), MR << 2, row0 + (<usize>k << 2), step);
        }
      }
      for (; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(dst + (<usize>(k * MR + r) << 2), r < mr ? load<f32>(row0 + <usize>r * step + (<usize>k << 2)) : 0);
        }
      }
    }
  }
}

// dst rows 0..3 (dstStride bytes apart) = the 4 x 4 block at src (rows srcStride bytes apart), transposed.
// @ts-ignore: decorator
@inline
function transpose4(dst: usize, dstStride: usize, src: usize, srcStride: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + srcStride);
  const r2 = v128.load(src + 2 * srcStride);
  const r3 = v128.load(src + 3 * srcStride);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// One MR x NR tile: acc = Apanel(MR x kc) * Bpanel(kc x NR); C = alpha*acc + beta*C on the mr x nr
// valid part (beta == 0 writes without reading C).
// @ts-ignore: decorator
@inline
function microkernel(
  kc: i32, a: usize, b: usize, C: usize, ldc: i32, mr: i32, nr: i32, alpha: f32, beta: f32, tile: usize,
): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(b);
      const b1 = v128.load(b, 16);
      let x = v128.load32_splat(a);
      c00 = f32x4.add(c00, f32x4.mul(x, b0));
      c01 = f32x4.add(c01, f32x4.mul(x, b1));
      x = v128.load32_splat(a, 4);
      c10 = f32x4.add(c10, f32x4.mul(x, b0));
      c11 = f32x4.add(c11, f32x4.mul(x, b1));
      x = v128.load32_splat(a, 8);
      c20 = f32x4.add(c20, f32x4.mul(x, b0));
      c21 = f32x4.add(c21, f32x4.mul(x, b1));
      x = v128.load32_splat(a, 12);
      c30 = f32x4.add(c30, f32x4.mul(x, b0));
      c31 = f32x4.add(c31, f32x4.mul(x, b1));
      a += 16;
      b += 32;
    }
    const va = f32x4.splat(alpha);
    if (mr == MR && nr == NR) {
      const step = <usize>ldc << 2;
      storeRow(C, f32x4.mul(va, c00), f32x4.mul(va, c01), beta);
      storeRow(C + step, f32x4.mul(va, c10), f32x4.mul(va, c11), beta);
      storeRow(C + 2 * step, f32x4.mul(va, c20), f32x4.mul(va, c21), beta);
      storeRow(C + 3 * step, f32x4.mul(va, c30), f32x4.mul(va, c31), beta);
      return;
    }
    v128.store(tile, f32x4.mul(va, c00)); v128.store(tile, f32x4.mul(va, c01), 16);
    v128.store(tile, f32x4.mul(va, c10), 32); v128.store(tile, f32x4.mul(va, c11), 48);
    v128.store(tile, f32x4.mul(va, c20), 64); v128.store(tile, f32x4.mul(va, c21), 80);
    v128.store(tile, f32x4.mul(va, c30), 96); v128.store(tile, f32x4.mul(va, c31), 112);
  } else {
    // Same products and the same k order as the SIMD lanes.
    for (let r = 0; r < MR; r++) {
      for (let c = 0; c < NR; c++) {
        let acc: f32 = 0;
        for (let k = 0; k < kc; k++) {
          acc += load<f32>(a + (<usize>(k * MR + r) << 2)) * load<f32>(b + (<usize>(k * NR + c) << 2));
        }
        store<f32>(tile + (<usize>(r * NR + c) << 2), alpha * acc);
      }
    }
  }
  for (let r = 0; r < mr; r++) {
    const crow = C + (<usize>(r * ldc) << 2);
    for (let c = 0; c < nr; c++) {
      const p = crow + (<usize>c << 2);
      const v = load<f32>(tile + (<usize>(r * NR + c) << 2));
      store<f32>(p, beta == 0 ? v : beta == 1 ? load<f32>(p) + v : beta * load<f32>(p) + v);
    }
  }
}

// @ts-ignore: decorator
@inline
function storeRow(p: usize, v0: v128, v1: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(p, v0);
    v128.store(p, v1, 16);
  } else if (beta == 1) {
    v128.store(p, f32x4.add(v128.load(p), v0));
    v128.store(p, f32x4.add(v128.load(p, 16), v1), 16);
  } else {
    const vb = f32x4.splat(beta);
    v128.store(p, f32x4.add(f32x4.mul(vb, v128.load(p)), v0));
    v128.store(p, f32x4.add(f32x4.mul(vb, v128.load(p, 16)), v1), 16);
  }
}

// ---- op(B) packed once: many products with the same B (one-row scoring with a model's W) ----------

/** Floats gemm_pack_b writes for op(B) of K x N: every KC x NC block as NR-wide panels, zero-padded. */
export function gemm_packed_floats(N: i32, K: i32): i32 {
  let total = 0;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    total += K * ((nc + NR - 1) / NR) * NR;
  }
  return total;
}

/** dst(gemm_packed_floats(N, K)) = op(B) (K x N; transB as in gemm) packed block by block (jc, then pc) as gemm packs it. */
export function gemm_pack_b(transB: i32, N: i32, K: i32, B: usize, ldb: i32, dst: usize): void {
  let at = dst;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const width = ((nc + NR - 1) / NR) * NR;
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      packB(at, transB, B, ldb, pc, jc, kc, nc);
      at += <usize>(kc * width) << 2;
    }
  }
}

/** C(M,N) = alpha*op(A)(M,K)*op(B)(K,N) + beta*C with op(B) from gemm_pack_b at Bp: the same sums in the same order as gemm, so bit-identical to it. */
export function gemm_packed(
  transA: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, Bp: usize, beta: f32, C: usize, ldc: i32, work: usize,
): void {
  const Ap = work + (<usize>BPACK_FLOATS << 2);
  const tile = Ap + (<usize>APACK_FLOATS << 2);
  let block = Bp;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const width = ((nc + NR - 1) / NR) * NR;
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const first = pc == 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(Ap, transA, A, lda, ic, pc, mc, kc);
        let jr = 0;
        if (ASC_FEATURE_SIMD && mc == 1) {
          // One row: four panels at a time, so eight independent sums hide the adds' latency (each
          // element's sum still runs over k in order).
          const c = C + (<usize>(ic * ldc + jc) << 2);
          if (kc == KC) {
            for (; jr + 4 * NR <= nc; jr += 4 * NR) {
              microkernel1x4Full(Ap, block + (<usize>(jr * KC) << 2), c + (<usize>jr << 2), alpha, first ? beta : 1);
            }
          }
          for (; jr + 4 * NR <= nc; jr += 4 * NR) {
            microkernel1x4(kc, Ap, block + (<usize>(jr * kc) << 2), c + (<usize>jr << 2), alpha, first ? beta : 1);
          }
        }
        for (; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpanel = block + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const apanel = Ap + (<usize>(ir * kc) << 2);
            const c = C + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (ASC_FEATURE_SIMD && mr == 1) microkernel1(kc, apanel, bpanel, c, nr, alpha, first ? beta : 1, tile);
            else microkernel(kc, apanel, bpanel, c, ldc, mr, nr, alpha, first ? beta : 1, tile);
          }
        }
      }
      block += <usize>(kc * width) << 2;
    }
  }
}

// The microkernel's first row alone (a one-row product): per lane the same products and additions in
// the same order as microkernel's, so the same bits, at a quarter of the work.
// @ts-ignore: decorator
@inline
function microkernel1(kc: i32, a: usize, b: usize, C: usize, nr: i32, alpha: f32, beta: f32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(x, v128.load(b)));
    c01 = f32x4.add(c01, f32x4.mul(x, v128.load(b, 16)));
    a += 16;
    b += 32;
  }
  const va = f32x4.splat(alpha);
  if (nr == NR) {
    storeRow(C, f32x4.mul(va, c00), f32x4.mul(va, c01), beta);
    return;
  }
  v128.store(tile, f32x4.mul(va, c00));
  v128.store(tile, f32x4.mul(va, c01), 16);
  for (let c = 0; c < nr; c++) {
    const p = C + (<usize>c << 2);
    const v = load<f32>(tile + (<usize>c << 2));
    store<f32>(p, beta == 0 ? v : beta == 1 ? load<f32>(p) + v : beta * load<f32>(p) + v);
  }
}

// One row against four full panels (32 columns): microkernel1 four times over, interleaved.
// microkernel1x4 for a full KC block: the panels' distances are constants (immediate offsets, no
// address arithmetic) and two k steps per iteration; each sum still adds its products in k order.
// @ts-ignore: decorator
@inline
function microkernel1x4Full(a: usize, b: usize, C: usize, alpha: f32, beta: f32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  for (let k = 0; k < KC; k += 2) {
    let x = v128.load32_splat(a);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(b)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(b, 16)));
    c2 = f32x4.add(c2, f32x4.mul(x, v128.load(b, KC * NR * 4)));
    c3 = f32x4.add(c3, f32x4.mul(x, v128.load(b, KC * NR * 4 + 16)));
    c4 = f32x4.add(c4, f32x4.mul(x, v128.load(b, 2 * KC * NR * 4)));
    c5 = f32x4.add(c5, f32x4.mul(x, v128.load(b, 2 * KC * NR * 4 + 16)));
    c6 = f32x4.add(c6, f32x4.mul(x, v128.load(b, 3 * KC * NR * 4)));
    c7 = f32x4.add(c7, f32x4.mul(x, v128.load(b, 3 * KC * NR * 4 + 16)));
    x = v128.load32_splat(a, 16);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(b, 32)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(b, 48)));
    c2 = f32x4.add(c2, f32x4.mul(x, v128.load(b, KC * NR * 4 + 32)));
    c3 = f32x4.add(c3, f32x4.mul(x, v128.load(b, KC * NR * 4 + 48)));
    c4 = f32x4.add(c4, f32x4.mul(x, v128.load(b, 2 * KC * NR * 4 + 32)));
    c5 = f32x4.add(c5, f32x4.mul(x, v128.load(b, 2 * KC * NR * 4 + 48)));
    c6 = f32x4.add(c6, f32x4.mul(x, v128.load(b, 3 * KC * NR * 4 + 32)));
    c7 = f32x4.add(c7, f32x4.mul(x, v128.load(b, 3 * KC * NR * 4 + 48)));
    a += 32;
    b += 64;
  }
  const va = f32x4.splat(alpha);
  storeRow(C, f32x4.mul(va, c0), f32x4.mul(va, c1), beta);
  storeRow(C + 32, f32x4.mul(va, c2), f32x4.mul(va, c3), beta);
  storeRow(C + 64, f32x4.mul(va, c4), f32x4.mul(va, c5), beta);
  storeRow(C + 96, f32x4.mul(va, c6), f32x4.mul(va, c7), beta);
}

// @ts-ignore: decorator
@inline
function microkernel1x4(kc: i32, a: usize, b: usize, C: usize, alpha: f32, beta: f32): void {
  const panel = <usize>(kc * NR) << 2;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(b)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(b, 16)));
    c2 = f32x4.add(c2, f32x4.mul(x, v128.load(b + panel)));
    c3 = f32x4.add(c3, f32x4.mul(x, v128.load(b + panel, 16)));
    c4 = f32x4.add(c4, f32x4.mul(x, v128.load(b + 2 * panel)));
    c5 = f32x4.add(c5, f32x4.mul(x, v128.load(b + 2 * panel, 16)));
    c6 = f32x4.add(c6, f32x4.mul(x, v128.load(b + 3 * panel)));
    c7 = f32x4.add(c7, f32x4.mul(x, v128.load(b + 3 * panel, 16)));
    a += 16;
    b += 32;
  }
  const va = f32x4.splat(alpha);
  storeRow(C, f32x4.mul(va, c0), f32x4.mul(va, c1), beta);
  storeRow(C + 32, f32x4.mul(va, c2), f32x4.mul(va, c3), beta);
  storeRow(C + 64, f32x4.mul(va, c4), f32x4.mul(va, c5), beta);
  storeRow(C + 96, f32x4.mul(va, c6), f32x4.mul(va, c7), beta);
}
