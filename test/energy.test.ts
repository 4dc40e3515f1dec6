import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder, encodeAutoencoder, decodeAutoencoder, packForScoring, type Autoencoder, type AeActivation, type Output } from "../src/model/autoencoder.js";
import { energy, field, laplacian, hessian, reconstruct, hidden, dynamics, absorbing } from "../src/model/energy.js";
import { encodeSafetensors } from "../src/formats/safetensors.js";
import { ACTIVATIONS } from "../src/engine/activations.js";
import { InputError, ShapeError, FormatError } from "../src/errors.js";
import { reference } from "./reference.js";
import { energyRef, fieldRef, laplacianRef, reconstructRef, numericGradient, type AeRef } from "./ref/autoencoder.js";
import { rng, sameBits } from "./util.js";

const e = createEngineSync();
const D = 7;
const H = 5;
const N = 4;

// A small random model with nonzero biases, and its float64 twin.
function model(act: AeActivation, output: Output, seed: number): { ae: Autoencoder; ref: AeRef } {
  const r = rng(seed);
  const ae = createAutoencoder(e, { D, H, activation: act, output }, r);
  for (const v of [ae.W.data, ae.bh.data, ae.br.data]) for (let i = 0; i < v.length; i++) v[i] = (r.uniform() - 0.5) * (act === "square" ? 0.6 : 1.2);
  const fn = act === "kmeans" ? "kmeans" : {
    h: (u: number) => reference(act, u).h,
    H: (u: number) => reference(act, u).H,
    d1: (u: number) => reference(act, u).d1,
  };
  if (act === "kmeans") {
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += ae.W.data[k * D + j] ** 2;
      ae.bh.data[k] = -0.5 * s;
    }
  }
  const ref: AeRef = { D, H, W: Float64Array.from(ae.W.data), bh: Float64Array.from(ae.bh.data), br: Float64Array.from(ae.br.data), act: fn, output };
  return { ae, ref };
}

function inputs(output: Output, seed: number, n = N): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * D }, () => (output === "binary" ? 0.05 + 0.9 * r.uniform() : 2 * r.uniform() - 1));
}

const row = (x: Float32Array, i: number): Float32Array => x.subarray(i * D, (i + 1) * D);

function close(got: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tol * (1 + Math.abs(want)), `${what}: got ${got}, want ${want}`);
}

const CASES: Array<[AeActivation, Output]> = [
  ...ACTIVATIONS.flatMap((a): Array<[AeActivation, Output]> => [[a, "real"], [a, "binary"]]),
  ["kmeans", "real"],
];

for (const [act, output] of CASES) {
  test(`${act}/${output}: energy, field = dE/dx, Laplacian = trace of the Hessian`, () => {
    const { ae, ref } = model(act, output, 11);
    const x = inputs(output, 12);
    const X = { shape: [N, D], data: x };
    const E = energy(ae, X);
    const F = field(ae, X).data;
    const L = laplacian(ae, X);
    const R = reconstruct(ae, X).data;
    for (let i = 0; i < N; i++) {
      const xi = row(x, i);
      close(E[i], energyRef(ref, xi), 2e-6, `E row ${i}`);
      // The reference's own gradient is its field (catches a wrong formula in either).
      const g = numericGradient((p) => energyRef(ref, p), xi);
      const f = fieldRef(ref, xi);
      const r = reconstructRef(ref, xi);
      for (let j = 0; j < D; j++) {
        close(f[j], g[j], 1e-6, `reference field [${i},${j}]`);
        close(F[i * D + j], g[j], 2e-5, `field [${i},${j}] vs dE/dx`);
        close(R[i * D + j], r[j], 2e-5, `reconstruction [${i},${j}]`);
      }
      // ΔE: the trace of the finite-difference Jacobian of the field.
      let trace = 0;
      for (let j = 0; j < D; j++) trace += numericGradient((p) => fieldRef(ref, p)[j], xi)[j];
      close(L[i], trace, 1e-4, `Laplacian row ${i}`);
      close(L[i], laplacianRef(ref, xi), 2e-5, `Laplacian formula row ${i}`);
    }
    if (act !== "kmeans") {
      // The Hessian at one row: the finite-difference Jacobian of the field.
      const xi = row(x, 1);
      const Hs = hessian(ae, { shape: [D], data: xi }).data;
      for (let j = 0; j < D; j++) {
        const col = numericGradient((p) => fieldRef(ref, p)[j], xi);
        for (let l = 0; l < D; l++) close(Hs[j * D + l], col[l], 1e-4, `Hessian [${j},${l}]`);
      }
    }
    assert.equal(absorbing(ae, X), Array.from(L, (l) => l < 0));
  });
}

test("sigmoid energy is the Gaussian-binary RBM's negative free energy (summed over all 2^H hidden states)", () => {
  const { ae } = model("sigmoid", "real", 21);
  const x = inputs("real", 22);
  const E = energy(ae, { shape: [N, D], data: x });
  const [W, c, b] = [ae.W.data, ae.bh.data, ae.br.data];
  for (let i = 0; i < N; i++) {
    const xi = row(x, i);
    let z = 0;
    for (let s = 0; s < 1 << H; s++) {
      // −E_rbm(x, h) = cᵀh + hᵀW x − ½‖x − b‖²
      let neg = 0;
      for (let k = 0; k < H; k++) {
        if (!(s & (1 << k))) continue;
        neg += c[k];
        for (let j = 0; j < D; j++) neg += W[k * D + j] * xi[j];
      }
      z += Math.exp(neg);
    }
    let q = 0;
    for (let j = 0; j < D; j++) q += (xi[j] - b[j]) ** 2;
    close(E[i], Math.log(z) - 0.5 * q, 2e-6, `row ${i}`);
  }
});

test("linear hiddens with orthonormal filters: E = −½‖x − WᵀWx‖² (PCA confidence)", () => {
  const ae = createAutoencoder(e, { D: 4, H: 2, activation: "linear", output: "real" });
  const s = Math.SQRT1_2;
  ae.W.data.set([s, s, 0, 0, 0, 0, s, -s]);
  const x = Float32Array.of(0.3, -0.2, 1, 0.5, -1, 0.25, 0.75, 0);
  const E = energy(ae, { shape: [2, 4], data: x });
  for (let i = 0; i < 2; i++) {
    const v = Array.from(x.subarray(4 * i, 4 * i + 4));
    const p = [(v[0] + v[1]) / 2, (v[0] + v[1]) / 2, (v[2] - v[3]) / 2, (v[3] - v[2]) / 2];
    close(E[i], -0.5 * v.reduce((a, vj, j) => a + (vj - p[j]) ** 2, 0), 1e-6, `row ${i}`);
  }
  assert.equal(Array.from(laplacian(ae, { shape: [2, 4], data: x }), Math.round), [-2, -2]); // d − D
});

test("kmeans: minus half the squared distance to the nearest filter; reconstruction is that filter", () => {
  const { ae } = model("kmeans", "real", 31);
  const x = inputs("real", 32);
  const E = energy(ae, { shape: [N, D], data: x });
  const R = reconstruct(ae, { shape: [N, D], data: x }).data;
  const Hd = hidden(ae, { shape: [N, D], data: x }).data;
  for (let i = 0; i < N; i++) {
    const d = Array.from({ length: H }, (_, k) => row(x, i).reduce((a, v, j) => a + (v - ae.W.data[k * D + j]) ** 2, 0));
    const s = d.indexOf(Math.min(...d));
    close(E[i], -0.5 * d[s], 1e-6, `row ${i}`);
    assert.equal(Array.from(R.subarray(i * D, (i + 1) * D)), Array.from(ae.W.data.subarray(s * D, (s + 1) * D)));
    assert.equal(Array.from(Hd.subarray(i * H, (i + 1) * H)), Array.from({ length: H }, (_, k) => (k === s ? 1 : 0)));
  }
  assert.equal(Array.from(laplacian(ae, { shape: [N, D], data: x })), [-D, -D, -D, -D]);
});

test("dynamics: E does not decrease along x ← x + ε(r(x) − x)", () => {
  for (const [act, output] of [["sigmoid", "real"], ["tanh", "binary"], ["softplus", "real"]] as Array<[AeActivation, Output]>) {
    const { ae } = model(act, output, 41);
    const X = { shape: [N, D], data: inputs(output, 42) };
    const { trajectory, energy: En } = dynamics(ae, X, { eps: 0.05, steps: 20 });
    assert.equal(trajectory.shape, [21, N, D]);
    assert.ok(sameBits(trajectory.data.subarray(0, N * D), X.data));
    for (let t = 1; t <= 20; t++) {
      for (let i = 0; i < N; i++) assert.ok(En.data[t * N + i] >= En.data[(t - 1) * N + i] - 1e-5, `${act} step ${t} row ${i}`);
    }
  }
});

test("batches larger than a chunk give the same rows as one at a time", () => {
  const { ae } = model("sigmoid", "binary", 51);
  const x = inputs("binary", 52, 1500);
  const E = energy(ae, { shape: [1500, D], data: x });
  for (const i of [0, 1023, 1024, 1499]) assert.is(E[i], energy(ae, { shape: [D], data: row(x, i) })[0]);
});

test("bad input is a typed error naming row and column", () => {
  const { ae } = model("sigmoid", "binary", 61);
  const x = inputs("binary", 62);
  x[2 * D + 3] = NaN;
  assert.throws(() => energy(ae, { shape: [N, D], data: x }), (err: unknown) => err instanceof InputError && err.message === "input: row 2, column 3 is NaN");
  x[2 * D + 3] = 1.5;
  assert.throws(() => field(ae, { shape: [N, D], data: x }), /row 2, column 3 is 1.5, outside \[0, 1\] \(binary-output model\)/);
  assert.throws(() => energy(ae, { shape: [N, D + 1], data: new Float32Array(N * (D + 1)) }), (err: unknown) =>
    err instanceof ShapeError && /shape \[4, 8\] does not fit a model with D = 7/.test(err.message));
  assert.throws(() => dynamics(ae, { shape: [D], data: inputs("binary", 1, 1) }, { eps: 0, steps: 3 }), /eps must be in \(0, 1\]/);
  assert.throws(() => createAutoencoder(e, { D: 3, H: 0, activation: "sigmoid", output: "real" }), /hidden size H must be a positive integer, not 0/);
  assert.throws(() => createAutoencoder(e, { D: 3, H: 2, activation: "gelu" as AeActivation, output: "real" }), /unknown activation "gelu"/);
});

test("model files: bit-exact round trip; malformed ones rejected", () => {
  const { ae } = model("softplus", "binary", 71);
  const back = decodeAutoencoder(e, encodeAutoencoder(ae), "m.safetensors");
  assert.is(back.activation, "softplus");
  assert.is(back.output, "binary");
  for (const k of ["W", "bh", "br"] as const) assert.ok(sameBits(back[k].data, ae[k].data), k);
  const t = (over: Record<string, { shape: number[]; data: Float32Array }>, meta: Record<string, string> = {}) =>
    encodeSafetensors(
      { W: { shape: [H, D], data: ae.W.data }, bh: { shape: [H], data: ae.bh.data }, br: { shape: [D], data: ae.br.data }, ...over },
      { format: "aescore", kind: "autoencoder", activation: "sigmoid", output: "real", ...meta },
    );
  const rejects = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(() => decodeAutoencoder(e, bytes, "m"), (err: unknown) => err instanceof FormatError && pattern.test(err.message));
  rejects(t({}, { kind: "csae" }), /^m: is a "csae" model, not "autoencoder"/);
  rejects(t({}, { format: "other" }), /not an aescore model/);
  rejects(t({}, { activation: "gelu" }), /metadata: autoencoder: unknown activation "gelu"/);
  rejects(t({ bh: { shape: [H + 1], data: new Float32Array(H + 1) } }), /tensor bh has shape \[6\], expected \[5\]/);
  rejects(t({ br: { shape: [D], data: new Float32Array(D).fill(NaN) } }), /tensor br holds NaN at index 0/);
  const noBias = encodeSafetensors({ W: { shape: [H, D], data: ae.W.data }, bh: { shape: [H], data: ae.bh.data } }, { format: "aescore", kind: "autoencoder", activation: "sigmoid", output: "real" });
  rejects(noBias, /tensor br is missing/);
});


test("a model packed for scoring gives the same bits for every function, one row or many", () => {
  const [en, fi, la, hi] = [energy, field, laplacian, hidden];
  const e2 = createEngineSync();
  const r = rng(8);
  for (const [activation, output] of [["sigmoid", "real"], ["tanh", "real"], ["relu", "real"], ["kmeans", "real"], ["sigmoid", "binary"], ["softplus", "binary"]] as const) {
    const ae = createAutoencoder(e2, { D: 13, H: 7, activation, output }, 3);
    const p = packForScoring(ae);
    for (const N of [1, 2, 9, 1]) {
      const X = { shape: [N, 13], data: Float32Array.from({ length: N * 13 }, () => (output === "binary" ? 0.02 + 0.96 * r.uniform() : r.uniform() * 2 - 1)) };
      assert.ok(sameBits(en(p, X), en(ae, X)), `${activation}/${output} energy N ${N}`);
      assert.ok(sameBits(fi(p, X).data, fi(ae, X).data), `${activation} field N ${N}`);
      assert.ok(sameBits(la(p, X), la(ae, X)), `${activation} laplacian N ${N}`);
      assert.ok(sameBits(hi(p, X).data, hi(ae, X).data), `${activation} hidden N ${N}`);
    }
    ae.W.data[0] += 1; // the snapshot keeps the weights it was made from
    assert.is.not(p.W.data[0], ae.W.data[0]);
  }
});

test.run();
