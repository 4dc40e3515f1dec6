// ROC curves of novelty scores (evaluate-novelty --plot): false positive rate across, true positive
// rate up, the chance diagonal, ticks every 0.2 and a legend in the curves' colours.

import { image, line, text, textWidth, type Image, type RGB } from "./plot.js";

/** The curves' colours in order, with the names the command prints for its legend. */
export const ROC_COLORS: Array<{ name: string; rgb: RGB }> = [
  { name: "blue", rgb: [31, 119, 180] }, { name: "red", rgb: [214, 39, 40] }, { name: "green", rgb: [44, 160, 44] },
  { name: "purple", rgb: [148, 103, 189] }, { name: "orange", rgb: [255, 127, 14] },
];

const INK: RGB = [0, 0, 0];
const GRID: RGB = [225, 225, 225];

/** One curve per name ((FPR, TPR) points in order; an empty curve is left out of the plot, not the legend). */
export function rocPlot(curves: Array<Array<[number, number]>>, names: string[], size = 400): Image {
  const [left, top, right, bottom] = [44, 26, 12, 40];
  const img = image(left + size + right, top + size + bottom);
  const X = (fpr: number) => left + fpr * (size - 1);
  const Y = (tpr: number) => top + (1 - tpr) * (size - 1);
  for (let k = 0; k <= 5; k++) {
    const t = k / 5;
    const label = k === 0 ? "0" : k === 5 ? "1" : `0.${2 * k}`;
    line(img, X(t), Y(0), X(t), Y(1), GRID);
    line(img, X(0), Y(t), X(1), Y(t), GRID);
    line(img, X(t), Y(0), X(t), Y(0) + 4, INK);
    line(img, X(0) - 4, Y(t), X(0), Y(t), INK);
    text(img, X(t) - textWidth(label) / 2, Y(0) + 8, label, INK);
    text(img, X(0) - 8 - textWidth(label), Y(t) - 5, label, INK);
  }
  line(img, X(0), Y(0), X(1), Y(1), [170, 170, 170]); // chance
  curves.forEach((c, i) => {
    for (let k = 1; k < c.length; k++) line(img, X(c[k - 1][0]), Y(c[k - 1][1]), X(c[k][0]), Y(c[k][1]), ROC_COLORS[i % ROC_COLORS.length].rgb);
  });
  line(img, X(0), Y(0), X(1), Y(0), INK);
  line(img, X(0), Y(0), X(0), Y(1), INK);
  const axis = "false positive rate";
  text(img, X(0.5) - textWidth(axis) / 2, Y(0) + 24, axis, INK);
  text(img, X(0) - 36, Y(1) - 22, "true positive rate", INK); // above the plot, where no curve runs
  const x = X(1) - 8 - Math.max(0, ...names.map((n) => textWidth(n))) - 22;
  names.forEach((name, i) => {
    const y = Y(0) - 14 - 14 * (names.length - 1 - i);
    line(img, x, y + 5, x + 16, y + 5, ROC_COLORS[i % ROC_COLORS.length].rgb);
    line(img, x, y + 4, x + 16, y + 4, ROC_COLORS[i % ROC_COLORS.length].rgb);
    text(img, x + 22, y, name, INK);
  });
  return img;
}
