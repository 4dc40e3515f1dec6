#!/usr/bin/python3
"""Where the RBF SVM of svm.py errs, broken down by what the generator drew (the recipe JSON).

For the sets outside 10% of the published error: refits the chosen (C, gamma) of svm.py's cache on
train + valid, predicts the first --rows test rows and splits the errors by the generator's choices
(background image, rectangle shape, blank convex images, ...). Writes probe.json beside this file
and prints the tables that svm.md quotes. Hypotheses, not a protocol: nothing here chooses anything.

  OMP_NUM_THREADS=1 nice -n 10 /usr/bin/python3 results/calibration/probe.py --data /tmp/aescore-sets
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
    args = ap.parse_args()
    result = {}

    def recipe(name):
        with open(os.path.join(args.data, f"{name}.json")) as f:
            return json.load(f)["sources"]["test"]

    # convex: blank (all-lit, k = 0 half-planes) convex images against the rest.
    X, y, wrong = predict(args, "convex", args.rows)
    lit = X.sum(axis=1)
    kind = np.where(lit == 784, 0, np.where(y == 1, 1, 2))
    result["convex"] = {
        "by_kind": table("convex: by kind", kind, wrong, ["blank (convex, k = 0)", "convex, not blank", "non-convex"]),
        "lit_bins": table("convex: by lit pixels", np.minimum(lit // 157, 4).astype(int), wrong,
                          ["<157", "157-313", "314-470", "471-627", ">=628"]),
    }

    # rectangles: by the gap |w - h| and by the shorter side.
    for name, rows in (("rectangles", args.rows), ("rectangles-image", args.image_rows)):
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
        X, y, wrong = predict(args, name, args.image_rows)
        src = recipe(name)
        bi = np.array(src["backgroundimage"][:args.image_rows])
        result[name] = {"by_background": table(f"{name}: by background image", bi, wrong, list(svm_backgrounds()))}
    with open(os.path.join(HERE, "probe.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def svm_backgrounds():
    # The order of src/datasets.ts BACKGROUNDS (the recipe records a patch's image as its position there).
    return ["ascent", "astronaut", "brick", "camera", "cell", "chelsea", "clock_motion", "coffee", "coins", "face",
            "grass", "gravel", "hubble_deep_field", "ihc", "moon", "motorcycle_left", "page", "retina", "rocket", "text"]


if __name__ == "__main__":
    main()
