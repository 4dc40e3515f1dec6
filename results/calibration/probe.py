#!/usr/bin/python3
"""Where the RBF SVM of svm.py errs, broken down by what the generator drew (the recipe JSON).

For the sets outside 10% of the published error: refits the chosen (C, gamma) of svm.py's cache on
train + valid, predicts the first --rows test rows and splits the errors by the generator's choices
(background image, rectangle shape, blank convex images, ...). Writes probe.json beside this file
and prints the tables that svm.md quotes. Hypotheses, not a protocol: nothing here chooses anything.

  OMP_NUM_THREADS=1 nice -n 15 /usr/bin/python3 results/calibration/probe.py --data /tmp/aescore-sets
"""

import argparse
import glob
import json
import os
import time

import numpy as np

import svm

HERE = os.path.dirname(os.path.abspath(__file__))


def chosen(name):
    finals = glob.glob(os.path.join(HERE, "cache", f"{name}__final__*.json"))
    if len(finals) != 1:
        raise SystemExit(f"{name}: expected one final entry in the cache, found {len(finals)} (run svm.py first)")
    with open(finals[0]) as f:
        return json.load(f)


def predict(args, name, rows):
    Xtr, ytr, _ = svm.load_split(args.data, name, "train")
    Xva, yva, _ = svm.load_split(args.data, name, "valid")
    Xte, yte, _ = svm.load_split(args.data, name, "test")
    fin = chosen(name)
    t0 = time.time()
    m = svm.svc(fin["C"], fin["gamma"]).fit(np.concatenate([Xtr, Xva]), np.concatenate([ytr, yva]))
    p = m.predict(Xte[:rows])
    svm.log(f"{name}: C={svm.fmt(fin['C'])} s={svm.fmt(fin['s'])}, {rows} test rows, {time.time() - t0:.0f} s")
    return Xte[:rows], yte[:rows], p != yte[:rows]


def table(title, keys, wrong, labels=None):
    out = {}
    print(f"\n{title}")
    for k in sorted(set(keys)):
        sel = keys == k
        name = labels[k] if labels is not None else k
        out[str(name)] = {"rows": int(sel.sum()), "error": round(float(wrong[sel].mean()), 4)}
        print(f"  {name!s:>20}: {sel.sum():6d} rows, error {100 * wrong[sel].mean():6.2f}%")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/aescore-sets")
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--image-rows", type=int, default=5000, help="rows for the *-image sets (slower)")
    ap.add_argument("--sets", default="convex,rectangles,rectangles-image,mnist-back-image,mnist-rot-back-image")
    args = ap.parse_args()
    sets = args.sets.split(",")
    # Earlier entries of probe.json (other sets, or an earlier run) are kept unless probed again.
    path = os.path.join(HERE, "probe.json")
    result = json.load(open(path)) if os.path.exists(path) else {}

    def recipe(name):
        with open(os.path.join(args.data, f"{name}.json")) as f:
            return json.load(f)["sources"]["test"]

    # convex: blank (all-lit, k = 0 half-planes) convex images against the rest, and the non-convex
    # examples that are digitally convex polygons (kept because they fail the pairwise test).
    if "convex" in sets:
        X, y, wrong = predict(args, "convex", args.rows)
        lit = X.sum(axis=1)
        polygon = np.array([y[i] == 0 and hull_convex(X[i] > 0.5) for i in range(len(y))])
        kind = np.where(lit == 784, 0, np.where(y == 1, 1, np.where(polygon, 3, 2)))
        result["convex"] = {
            "by_kind": table("convex: by kind", kind, wrong, ["blank (convex, k = 0)", "convex, not blank", "non-convex",
                                                              "non-convex by the pairwise test only (a digital convex polygon)"]),
            "lit_bins": table("convex: by lit pixels", np.minimum(lit // 157, 4).astype(int), wrong,
                              ["<157", "157-313", "314-470", "471-627", ">=628"]),
        }

    # rectangles: by the gap |w - h| and by the shorter side.
    for name, rows in (("rectangles", args.rows), ("rectangles-image", args.image_rows)):
        if name not in sets:
            continue
        X, y, wrong = predict(args, name, rows)
        src = recipe(name)
        w = np.array(src["rectw"][:rows])
        h = np.array(src["recth"][:rows])
        gap = np.abs(w - h)
        area = w * h
        r = {
            "gap": table(f"{name}: by |w - h|", np.minimum(gap, 9) // 3 - 1, wrong, ["3-5", "6-8", ">=9"]),
            "short_side": table(f"{name}: by the shorter side", np.minimum(np.minimum(w, h), 12) // 4, wrong,
                                ["3", "4-7", "8-11", ">=12"]),
            "area": table(f"{name}: by area (pixels)", np.digitize(area, [50, 100, 200, 400]), wrong,
                          ["<50", "50-99", "100-199", "200-399", ">=400"]),
        }
        if name == "rectangles-image":
            # Contrast between the two patches: |mean inside - mean outside| of the rectangle.
            diffs = []
            for i in range(rows):
                img = X[i].reshape(28, 28)
                x0, y0 = src["rectx"][i], src["recty"][i]
                m = np.zeros((28, 28), bool)
                m[y0:y0 + h[i], x0:x0 + w[i]] = True
                diffs.append(abs(img[m].mean() - img[~m].mean()) if (~m).any() else 0.0)
            diffs = np.array(diffs)
            r["mean_contrast"] = table("rectangles-image: by |mean inside - mean outside|",
                                       np.digitize(diffs, [0.05, 0.1, 0.2, 0.3]), wrong,
                                       ["<0.05", "0.05-0.1", "0.1-0.2", "0.2-0.3", ">=0.3"])
        result[name] = r

    # mnist-back-image and mnist-rot-back-image: by background image and by patch brightness.
    for name in ("mnist-back-image", "mnist-rot-back-image"):
        if name not in sets:
            continue
        X, y, wrong = predict(args, name, args.image_rows)
        src = recipe(name)
        bi = np.array(src["backgroundimage"][:args.image_rows])
        result[name] = {"by_background": table(f"{name}: by background image", bi, wrong, list(svm_backgrounds()))}
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def hull_convex(m):
    # src/datasets/shapes.ts isConvex: no pixel outside the set has its centre in the convex hull of
    # the set's pixel centres (Andrew's monotone chain; integer coordinates, so exact).
    pts = sorted((int(i % 28), int(i // 28)) for i in np.nonzero(m.reshape(-1))[0])
    if len(pts) <= 1:
        return True
    cross = lambda o, a, b: (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    def half(ps):
        h = []
        for p in ps:
            while len(h) >= 2 and cross(h[-2], h[-1], p) <= 0:
                h.pop()
            h.append(p)
        return h
    hull = half(pts)[:-1] + half(pts[::-1])[:-1]
    xs, ys = np.meshgrid(np.arange(28), np.arange(28))
    inside = np.ones((28, 28), bool)
    for k in range(len(hull)):
        a, b = hull[k], hull[(k + 1) % len(hull)]
        inside &= (b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0]) >= 0
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    inside &= (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    return not np.any(inside & ~m.reshape(28, 28))


def svm_backgrounds():
    # The order of src/datasets/backgrounds.ts BACKGROUNDS (the recipe records a patch's image as its position there).
    return ["ascent", "astronaut", "brick", "camera", "cell", "chelsea", "clock_motion", "coffee", "coins", "face",
            "grass", "gravel", "hubble_deep_field", "ihc", "moon", "motorcycle_left", "page", "retina", "rocket", "text"]


if __name__ == "__main__":
    main()
