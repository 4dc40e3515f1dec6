import numpy as np, sys
from quick import quick
from rect_proto import make
spec = sys.argv[1]; seeds = range(int(sys.argv[2]))
lo, hi, gap = map(int, spec.split(','))
r = []
for sd in seeds:
    rng = np.random.default_rng(100 + sd)
    Xtr, ytr = make(1000, rng, lo, hi, gap); Xva, yva = make(200, rng, lo, hi, gap); Xte, yte = make(10000, rng, lo, hi, gap)
    r.append(quick(Xtr, ytr, Xva, yva, Xte, yte, Cs=(1, 10, 100), Ss=(1, 2, 4, 8), label=f"rect {spec} seed {sd}"))
print(spec, "mean", 100*np.mean(r), "sd", 100*np.std(r))
