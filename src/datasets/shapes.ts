// Shapes for rectangles and convex: convexity, half-plane polygons, rectangles and their outlines.

import { type Rng } from "../random.js";
import { cos, sin } from "../math.js";
import { CONVEX_MIN_PIXELS, CONVEX_P, PART_MIN_PIXELS, PART_P, PIXELS, type RectSpec, SIDE } from "./sets.js";

export function cross(o: number, a: number, b: number): number {
  const or = (o / SIDE) | 0;
  const ar = (a / SIDE) | 0;
  const br = (b / SIDE) | 0;
  return (ar - or) * (b - br * SIDE - (o - or * SIDE)) - (a - ar * SIDE - (o - or * SIDE)) * (br - or);
}

/**
 * Digital convexity of a 28 x 28 pixel set (nonzero = in): true when no pixel outside the set has
 * its centre in the convex hull of the set's pixel centres. Integer coordinates, so exact.
 */
export function isConvex(mask: ArrayLike<number>): boolean {
  const pts: number[] = [];
  let c0 = SIDE, c1 = -1, r0 = SIDE, r1 = -1;
  for (let i = 0; i < PIXELS; i++) {
    if (!mask[i]) continue;
    pts.push(i);
    c0 = Math.min(c0, i % SIDE); c1 = Math.max(c1, i % SIDE);
    r0 = Math.min(r0, (i / SIDE) | 0); r1 = Math.max(r1, (i / SIDE) | 0);
  }
  // Andrew's monotone chain; collinear points are dropped, so a set on one line gives its two ends.
  const hull: number[] = [];
  const push = (p: number, floor: number): void => {
    while (hull.length >= floor + 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
    hull.push(p);
  };
  for (const p of pts) push(p, 0);
  const lower = hull.length - 1;
  for (let k = pts.length - 2; k >= 0; k--) push(pts[k], lower);
  hull.pop(); // the first point again
  // Inside = on the left of (or on) every edge of the counter-clockwise hull. For a hull of two
  // points that means on their line, and the bounding box then keeps it between them.
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const q = r * SIDE + c;
      if (mask[q]) continue;
      let inside = true;
      for (let k = 0; k < hull.length && inside; k++) inside = cross(hull[k], hull[(k + 1) % hull.length], q) >= 0;
      if (inside) return false;
    }
  }
  return true;
}

/**
 * The pairwise test of Larochelle et al. (2007), "checking a convexity condition for every pair of
 * pixels": true when, for every ordered pair of pixels p, q of the set, the digital segment from p
 * to q stays in the set. The digital segment is p + round(t (q − p) / n) for t = 0 .. n, n the larger
 * of |qx − px| and |qy − py| (one pixel per step along the longer axis), halves rounded up; integer
 * operands, so the divisions are exact enough to floor correctly. Stricter than isConvex on sets
 * whose edges are not axis-aligned: a digitized convex polygon can fail it, because the rounded
 * segment between two of its boundary pixels can step onto a pixel just outside.
 */
export function segmentsStayIn(mask: ArrayLike<number>): boolean {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < PIXELS; i++) {
    if (!mask[i]) continue;
    xs.push(i % SIDE);
    ys.push((i / SIDE) | 0);
  }
  if (xs.length === PIXELS) return true;
  for (let a = 0; a < xs.length; a++) {
    for (let b = 0; b < xs.length; b++) {
      const dx = xs[b] - xs[a];
      const dy = ys[b] - ys[a];
      const n = Math.max(Math.abs(dx), Math.abs(dy));
      for (let t = 1; t < n; t++) {
        const x = xs[a] + Math.floor((2 * t * dx + n) / (2 * n));
        const y = ys[a] + Math.floor((2 * t * dy + n) / (2 * n));
        if (!mask[y * SIDE + x]) return false;
      }
    }
  }
  return true;
}

// The number of failures before the first success (support 0, 1, 2, ...; mean (1 - p) / p). With
// this convention the published parameters give the two classes the same mean number of lit pixels
// (measured at seed 0, full size: 448 and 450), as the benchmark's description says they were tuned to; counting
// the trials instead (support 1, 2, ...) gives about 280 against 470. k = 0 is the whole image.
export function geometric(r: Rng, p: number): number {
  let k = 0;
  while (r.uniform() >= p) k++;
  return k;
}

// The pixels (mask = 1) whose centres lie in k random half-planes; stops early once fewer than
// `min` are left, since the caller draws again then. Returns the count.
export function halfPlanes(r: Rng, k: number, min: number, mask: Uint8Array): number {
  mask.fill(1);
  let count = PIXELS;
  for (let j = 0; j < k && count >= min; j++) {
    const qx = SIDE * r.uniform();
    const qy = SIDE * r.uniform();
    const t = 2 * Math.PI * r.uniform();
    const nx = cos(t);
    const ny = sin(t);
    for (let i = 0; i < PIXELS; i++) {
      if (mask[i] && ((i % SIDE) + 0.5 - qx) * nx + (((i / SIDE) | 0) + 0.5 - qy) * ny < 0) {
        mask[i] = 0;
        count--;
      }
    }
  }
  return count;
}

/**
 * A convex (label 1) or non-convex (label 0) pixel set, as in CHOICES.convex.
 *
 * Calibration (results/calibration/svm.md): with the hull test alone the RBF SVM found the set far
 * easier than the original (11.8% against 19.1%). The published test is pairwise ("checking a
 * convexity condition for every pair of pixels"), and with it about 13% of the non-convex examples
 * are unions that come out digitally convex polygons (one part covering the others) yet fail the
 * pairwise test, as they would have in the original: the error rises to about 17%. The blank
 * convex images (k = 0, a third of the convex class) stay: counting trials (k >= 1) would remove
 * them but break the published balance of the classes' mean lit pixels (about 267 against 471 in a
 * probe), which this convention keeps (448 against 462 at seed 0).
 */
export function convexShape(r: Rng, convex: boolean, out: Uint8Array): void {
  if (convex) {
    while (halfPlanes(r, geometric(r, CONVEX_P), CONVEX_MIN_PIXELS, out) < CONVEX_MIN_PIXELS);
    return;
  }
  const part = new Uint8Array(PIXELS);
  do {
    out.fill(0);
    const n = 2 + r.int(3);
    for (let j = 0; j < n; j++) {
      while (halfPlanes(r, geometric(r, PART_P), PART_MIN_PIXELS, part) < PART_MIN_PIXELS);
      for (let i = 0; i < PIXELS; i++) out[i] |= part[i];
    }
    // Kept when either test finds it non-convex. The pairwise test is the published one; isConvex
    // (cheaper, and at least as strict on the unions drawn here: in a sample of 400 unions it failed,
    // the pairwise test failed every one) runs first and settles most candidates.
  } while (isConvex(out) && segmentsStayIn(out));
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A rectangle as `spec` says (RECTANGLES, RECTANGLES_IMAGE), its corner uniform where it fits. */
export function drawRect(r: Rng, spec: RectSpec): Rect {
  const { min, max, gap, minArea, maxArea } = spec;
  let w: number;
  let h: number;
  do {
    w = min + r.int(max - min + 1);
    h = min + r.int(max - min + 1);
  } while (Math.abs(w - h) < gap || w * h < minArea || w * h > maxArea);
  return { x: r.int(SIDE - w + 1), y: r.int(SIDE - h + 1), w, h };
}

export function inRect({ x, y, w, h }: Rect, i: number): boolean {
  const c = i % SIDE;
  const row = (i / SIDE) | 0;
  return c >= x && c < x + w && row >= y && row < y + h;
}

export function onOutline(rect: Rect, i: number): boolean {
  const c = i % SIDE;
  const row = (i / SIDE) | 0;
  return inRect(rect, i) && (c === rect.x || c === rect.x + rect.w - 1 || row === rect.y || row === rect.y + rect.h - 1);
}

// One example into `out`; returns its label and appends what it used to `rec`.
