// The browser demo (npm run demo): aescore's core loaded by relative path, no bundler. A digit drawn
// on the pad is framed as MNIST's are (frame.js) and scored by the shipped CSAE; the Fig. 2
// autoencoder's energy is drawn as a heat map, and a click runs the dynamics x ← x + ε (r(x) − x).
// Page options: ?backend=scalar forces the scalar build, ?model=NAME loads another model file.

import { createEngine, hasSimd, decodeModel, scores, predictProba, energy, dynamics } from "../../dist/src/index.js";
import { frameDigit, SIDE } from "./frame.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const demo = { ready: false, errors: [], notes: [] };
window.demo = demo;

function message(kind, text) {
  const p = document.createElement("p");
  p.className = kind;
  p.textContent = text;
  $("messages").append(p);
  (kind === "error" ? demo.errors : demo.notes).push(text);
}

async function fetchBytes(name) {
  const url = new URL(name, import.meta.url);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${res.statusText}`.trim());
  return new Uint8Array(await res.arrayBuffer());
}

// ---- the digit pad -------------------------------------------------------------------------------

const PAD = 280;
const STROKE = 20; // px on the 280 px pad: about 2 px of 28 for a digit drawn 200 px tall, as MNIST's strokes

function setUpPad(e, model) {
  const { csae } = model;
  const pad = $("pad");
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  const preview = $("preview").getContext("2d");
  const rows = csae.classes.map((label) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td class="label"></td><td><div class="track"><div class="bar"></div></div></td><td class="num score"></td><td><div class="track"><div class="bar p"></div></div></td><td class="num prob"></td>`;
    tr.querySelector(".label").textContent = label;
    $("classes").tBodies[0].append(tr);
    return { tr, bar: tr.querySelector(".bar"), pbar: tr.querySelector(".bar.p"), score: tr.querySelector(".score"), prob: tr.querySelector(".prob") };
  });

  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, PAD, PAD);
    update();
  };

  // The one path from the pad's pixels to the numbers on the page (drawing and drawDigit both use it).
  function update() {
    const { data } = ctx.getImageData(0, 0, PAD, PAD);
    const ink = new Float32Array(PAD * PAD);
    for (let i = 0; i < ink.length; i++) ink[i] = data[4 * i] / 255;
    const x = frameDigit(ink, PAD, PAD);
    const img = preview.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = Math.round(255 * (x ? x[i] : 0));
      img.data.set([v, v, v, 255], 4 * i);
    }
    preview.putImageData(img, 0, 0);
    if (!x) {
      demo.last = undefined;
      $("prediction").textContent = "–";
      $("confidence").textContent = "draw a digit";
      for (const r of rows) {
        r.tr.classList.remove("best");
        r.bar.style.width = r.pbar.style.width = "0";
        r.score.textContent = r.prob.textContent = "";
        delete r.tr.dataset.score;
        delete r.tr.dataset.p;
      }
      return;
    }
    const X = { shape: [1, SIDE * SIDE], data: x };
    const z = scores(csae, X);
    const p = predictProba(csae, X);
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    const lo = Math.min(...z);
    const hi = Math.max(...z);
    rows.forEach((r, i) => {
      r.tr.classList.toggle("best", i === best);
      r.bar.style.width = `${(100 * (0.04 + (0.96 * (z[i] - lo)) / (hi - lo || 1))).toFixed(1)}%`;
      r.pbar.style.width = `${(100 * p[i]).toFixed(1)}%`;
      r.score.textContent = z[i].toFixed(1);
      r.prob.textContent = p[i] < 0.0005 && p[i] > 0 ? p[i].toExponential(0) : p[i].toFixed(3);
      r.tr.dataset.score = String(z[i]);
      r.tr.dataset.p = String(p[i]);
    });
    $("prediction").textContent = csae.classes[best];
    $("confidence").textContent = `P = ${p[best].toFixed(3)}`;
    demo.last = { digit: Array.from(x), scores: Array.from(z), probabilities: Array.from(p), prediction: csae.classes[best] };
  }

  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      update();
    });
  };
  const at = (ev) => {
    const b = pad.getBoundingClientRect();
    return [((ev.clientX - b.left) * PAD) / b.width, ((ev.clientY - b.top) * PAD) / b.height];
  };
  let last;
  pad.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    pad.setPointerCapture(ev.pointerId);
    last = at(ev);
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(last[0], last[1], STROKE / 2, 0, 2 * Math.PI);
    ctx.fill();
    schedule();
  });
  pad.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const next = at(ev);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = STROKE;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
    schedule();
  });
  for (const end of ["pointerup", "pointercancel"]) pad.addEventListener(end, () => (last = undefined));
  $("clear").addEventListener("click", clear);

  /** Paints a 28x28 digit (values in [0, 1]) on the pad at `scale` px a pixel, then scores it like a drawing. */
  demo.drawDigit = (pixels, { scale = 8, left = 30, top = 20 } = {}) => {
    const small = document.createElement("canvas");
    small.width = small.height = SIDE;
    const s = small.getContext("2d");
    const img = s.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = Math.round(255 * pixels[i]);
      img.data.set([v, v, v, 255], 4 * i);
    }
    s.putImageData(img, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, PAD, PAD);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, left, top, SIDE * scale, SIDE * scale);
    update();
    return demo.last;
  };
  demo.clear = clear;
  clear();
}

// ---- the energy surface of Fig. 2 ----------------------------------------------------------------

const EXTENT = 1.8; // [−1.8, 1.8]², as the repository's Fig. 2
const GRID = 200;
const FOCUS = 1.3; // the colour scale is set by the energies within this radius (the circle and around it)

/** t in [0, 1] → a dark-violet-to-yellow colour, monotone in lightness. */
function colour(t) {
  const u = Math.min(1, Math.max(0, t));
  return `hsl(${265 - 215 * u} 75% ${12 + 72 * u}%)`;
}

/** The colour map as 256 RGBA entries (the browser converts the colours once). */
function colourTable() {
  const c = document.createElement("canvas");
  c.width = 256;
  c.height = 1;
  const g = c.getContext("2d", { willReadFrequently: true });
  for (let i = 0; i < 256; i++) {
    g.fillStyle = colour(i / 255);
    g.fillRect(i, 0, 1, 1);
  }
  return g.getImageData(0, 0, 256, 1).data;
}

function setUpToy(e, model) {
  const { ae } = model;
  const toy = $("toy");
  const ctx = toy.getContext("2d");
  const size = toy.width;
  const toPixel = (x, y) => [((x + EXTENT) / (2 * EXTENT)) * size, ((EXTENT - y) / (2 * EXTENT)) * size];
  const fromPixel = (px, py) => [(px / size) * 2 * EXTENT - EXTENT, EXTENT - (py / size) * 2 * EXTENT];

  const grid = new Float32Array(2 * GRID * GRID);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      grid[2 * (r * GRID + c)] = -EXTENT + (2 * EXTENT * (c + 0.5)) / GRID;
      grid[2 * (r * GRID + c) + 1] = EXTENT - (2 * EXTENT * (r + 0.5)) / GRID;
    }
  }
  const E = energy(ae, { shape: [GRID * GRID, 2], data: grid });
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < E.length; i++) {
    if (Math.hypot(grid[2 * i], grid[2 * i + 1]) <= FOCUS) [lo, hi] = [Math.min(lo, E[i]), Math.max(hi, E[i])];
  }
  // The heat map once, into an offscreen canvas that every redraw starts from.
  const heat = document.createElement("canvas");
  heat.width = heat.height = GRID;
  const h = heat.getContext("2d");
  const table = colourTable();
  const img = h.createImageData(GRID, GRID);
  for (let i = 0; i < E.length; i++) {
    const k = Math.round(255 * Math.min(1, Math.max(0, (E[i] - lo) / (hi - lo || 1))));
    img.data.set(table.subarray(4 * k, 4 * k + 4), 4 * i);
  }
  h.putImageData(img, 0, 0);
  const legend = $("legend").getContext("2d");
  for (let x = 0; x < 400; x++) {
    legend.fillStyle = colour(x / 399);
    legend.fillRect(x, 0, 1, 12);
  }
  $("legend-lo").textContent = `${lo.toFixed(3)} (and below)`;
  $("legend-hi").textContent = hi.toFixed(3);

  const paths = [];
  const TRAIL = "#ff4f9a";
  function redraw() {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heat, 0, 0, size, size);
    ctx.strokeStyle = "rgba(255, 255, 255, 0.55)";
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(size / 2, size / 2, size / (2 * EXTENT), 0, 2 * Math.PI); // the unit circle the data lie on
    ctx.stroke();
    ctx.setLineDash([]);
    for (const path of paths) {
      const pts = path.points.map(([x, y]) => toPixel(x, y));
      ctx.strokeStyle = TRAIL;
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
      ctx.fillStyle = "#fff";
      ctx.strokeStyle = TRAIL;
      ctx.beginPath();
      ctx.arc(...pts[0], 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = TRAIL;
      ctx.beginPath();
      ctx.arc(...pts[pts.length - 1], 4, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  function run(x, y) {
    const eps = Number($("eps").value);
    const steps = Number($("steps").value);
    let out;
    try {
      out = dynamics(ae, { shape: [1, 2], data: Float32Array.of(x, y) }, { eps, steps });
    } catch (err) {
      $("toy-info").textContent = err.message; // e.g. "dynamics: eps must be in (0, 1], not 2"
      return;
    }
    const t = out.trajectory.data;
    const points = [];
    for (let k = 0; k <= steps; k++) points.push([t[2 * k], t[2 * k + 1]]);
    const energies = Array.from(out.energy.data);
    paths.push({ points, energies });
    demo.toy.trajectory = points;
    demo.toy.energies = energies;
    redraw();
    const [ex, ey] = points[steps];
    $("toy-info").textContent = `from (${x.toFixed(2)}, ${y.toFixed(2)}), E = ${energies[0].toFixed(4)}: after ${steps} steps at (${ex.toFixed(2)}, ${ey.toFixed(2)}), |x| = ${Math.hypot(ex, ey).toFixed(3)}, E = ${energies[steps].toFixed(4)}`;
  }

  toy.addEventListener("click", (ev) => {
    const b = toy.getBoundingClientRect();
    run(...fromPixel(((ev.clientX - b.left) * size) / b.width, ((ev.clientY - b.top) * size) / b.height));
  });
  $("clear-paths").addEventListener("click", () => {
    paths.length = 0;
    redraw();
  });
  demo.toy = { toPixel, range: [lo, hi], trail: TRAIL };
  redraw();
}

// ---- start ---------------------------------------------------------------------------------------

async function main() {
  if (typeof WebAssembly !== "object") {
    message("error", "This browser has no WebAssembly: aescore cannot run here.");
    $("status").textContent = "not running";
    return;
  }
  const want = params.get("backend") ?? "auto";
  let e;
  try {
    e = await createEngine({ backend: want });
  } catch (err) {
    message("error", `The engine did not start: ${err.message}`);
    $("status").textContent = "not running";
    return;
  }
  if (e.backend === "scalar") {
    message("note", hasSimd()
      ? "Running aescore's scalar WebAssembly build (chosen by ?backend=scalar): the same results, slower."
      : "This browser does not support WebAssembly SIMD: running aescore's scalar build instead (the same results, slower).");
  }
  const status = [`engine: ${e.backend} build`];
  demo.backend = e.backend;

  const name = params.get("model") ?? "mnist-csae.safetensors";
  try {
    const bytes = await fetchBytes(name);
    const model = decodeModel(e, bytes, name);
    if (model.kind === "autoencoder") throw new Error(`${name} is a single autoencoder, not a classifier`);
    const [ae] = model.csae.aes;
    status.push(`digits: ${model.kind}, ${model.csae.classes.length} classes, H = ${ae.H} ${ae.activation} (${(bytes.length / 1e6).toFixed(2)} MB)`);
    $("model-note").textContent = `${name}: ${model.csae.classes.length} ${ae.activation} autoencoders of ${ae.H} hiddens, trained by examples/browser/train-model.mjs.`;
    setUpPad(e, model);
  } catch (err) {
    message("error", `The digit model did not load: ${err.message}`);
    $("digit").style.opacity = "0.5";
    status.push("digits: no model");
  }

  try {
    const bytes = await fetchBytes("toy.safetensors");
    const model = decodeModel(e, bytes, "toy.safetensors");
    if (model.kind !== "autoencoder" || model.ae.D !== 2) throw new Error("toy.safetensors is not a 2-D autoencoder");
    setUpToy(e, model);
    status.push(`Fig. 2: H = ${model.ae.H} ${model.ae.activation}`);
  } catch (err) {
    message("error", `The Fig. 2 model did not load: ${err.message}`);
    $("surface").style.opacity = "0.5";
  }
  $("status").textContent = status.join(" · ");
  demo.ready = true;
}

main().catch((err) => {
  message("error", `The demo stopped: ${err.message}`);
  demo.ready = true;
});
