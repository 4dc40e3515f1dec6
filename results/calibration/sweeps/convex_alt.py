import numpy as np, sys
from convex_proto import half_planes, geom, is_convex_hull
rng = np.random.default_rng(12)
lits = []
for _ in range(1500):
    while True:
        u = np.zeros(784, bool)
        for _ in range(rng.integers(2, 5)):
            u |= half_planes(rng, geom(rng, 0.07, False), 'point')
        if u.sum() >= 10 and not is_convex_hull(u): break
    lits.append(u.sum())
print("parts unconstrained, union >= 10: mean lit", np.mean(lits))
