# How often does a hull-non-convex candidate union pass the pairwise DDA test (both directions)?
import numpy as np, sys
from convex_proto import half_planes, geom, is_convex_hull
from convex_pair import pairwise_fails
rng = np.random.default_rng(9); n = passed = 0
while n < 400:
    u = np.zeros(784, bool)
    for _ in range(rng.integers(2, 5)):
        while True:
            mm = half_planes(rng, geom(rng, 0.07, False), 'point')
            if mm.sum() >= 10: break
        u |= mm
    if is_convex_hull(u): continue
    n += 1; passed += not pairwise_fails(u, True)
print("hull-non-convex candidates passing the pairwise test:", passed, "of", n)
