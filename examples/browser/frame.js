// A drawing framed the way MNIST's digits are: the ink's bounding box scaled (aspect kept, area
// averaging, so strokes come out grey-edged like MNIST's anti-aliasing) until its longer side is 20
// pixels, then placed in a 28x28 field with its centre of mass at pixel (14, 14) — where the mean
// centre of mass of MNIST's 60000 training digits lies, in row and column indices (14.01, 14.00).
// Pure: no DOM, so the test can run it in Node too.

export const SIDE = 28;
const BOX = 20;
const CENTRE = 14;

/**
 * ink: (height, width) values in [0, 1], row-major. Returns the 28x28 digit (784 values in [0, 1]),
 * or undefined when nothing is drawn.
 */
export function frameDigit(ink, width, height) {
  let x0 = width;
  let x1 = -1;
  let y0 = height;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return undefined;
  const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = BOX / Math.max(bw, bh);
  const [tw, th] = [Math.max(1, Math.round(bw * scale)), Math.max(1, Math.round(bh * scale))];
  // Separable area averaging: rows first (bh x tw), then columns (th x tw).
  const rows = new Float32Array(bh * tw);
  for (let y = 0; y < bh; y++) resample(ink, (y0 + y) * width + x0, 1, bw, rows, y * tw, 1, tw);
  const box = new Float32Array(th * tw);
  for (let x = 0; x < tw; x++) resample(rows, x, tw, bh, box, x, tw, th);

  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = box[y * tw + x];
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  }
  // Whole-pixel shift (as MNIST's), clamped so that the box stays inside the field.
  const ox = Math.min(SIDE - tw, Math.max(0, Math.round(CENTRE - cx / mass)));
  const oy = Math.min(SIDE - th, Math.max(0, Math.round(CENTRE - cy / mass)));
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(oy + y) * SIDE + ox + x] = Math.min(1, box[y * tw + x]);
  }
  return out;
}

/**
 * One line of n source values (from src[s0], step ss) averaged over m equal target cells (into
 * dst[d0], step ds): each target value is the mean of the source over its footprint, partial source
 * pixels weighted by their overlap.
 */
function resample(src, s0, ss, n, dst, d0, ds, m) {
  const step = n / m; // source pixels per target pixel
  for (let j = 0; j < m; j++) {
    const a = j * step;
    const b = a + step;
    let sum = 0;
    for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) sum += src[s0 + i * ss] * (Math.min(b, i + 1) - Math.max(a, i));
    dst[d0 + j * ds] = sum / step;
  }
}
