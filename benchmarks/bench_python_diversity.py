#!/usr/bin/python3
"""The numpy baselines of bench_sampling's diversity samplers, as a user would write them.

    /usr/bin/python3 benchmarks/bench_python_diversity.py kcenter --n 60000 --d 128 --k 1000
    /usr/bin/python3 benchmarks/bench_python_diversity.py badge --n 60000 --c 10 --d 128 --k 1000

kcenter: greedy k-center with one matrix-vector product per pick (||x||^2 - 2 x.c + ||c||^2),
the vectorised form. badge: k-means++ seeding on gradient embeddings a (x) h kept factored,
||g_i - g_j||^2 = |a_i|^2 |h_i|^2 + |a_j|^2 |h_j|^2 - 2 (a_i.a_j)(h_i.h_j), D^2 sampling per
pick (cumulative sum and a binary search). Data: float32 Gaussian noise (k-center) and a Gaussian mixture with softmax
probabilities (BADGE), fixed seed; the timing excludes making the data.

Prints one line "<name> <seconds>" per launch; Python processes of one script land in a fast
or a slow mode (see FACTS.md), so bench_sampling takes the best of several launches.
"""
import argparse
import time

import numpy as np


def kcenter(x: np.ndarray, k: int) -> list:
    sq = np.einsum("ij,ij->i", x, x)
    first = 0
    c = x[first]
    d = sq - 2.0 * (x @ c) + c @ c
    picks = [first]
    d[first] = -1.0
    for _ in range(k - 1):
        i = int(np.argmax(d))
        picks.append(i)
        c = x[i]
        np.minimum(d, sq - 2.0 * (x @ c) + c @ c, out=d)
        d[i] = -1.0  # picked: np.minimum keeps it below every distance
    return picks


def badge(a: np.ndarray, h: np.ndarray, k: int, rng: np.random.Generator) -> list:
    n2 = np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", h, h)
    first = int(np.argmax(n2))
    picks = [first]

    def dist(j):
        return np.maximum(n2 + n2[j] - 2.0 * (a @ a[j]) * (h @ h[j]), 0.0)

    d = dist(first)
    d[first] = 0.0
    for _ in range(k - 1):
        cum = np.cumsum(d, dtype=np.float64)
        j = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), len(d) - 1)
        picks.append(j)
        np.minimum(d, dist(j), out=d)
        d[j] = 0.0
    return picks


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["kcenter", "badge"])
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--c", type=int, default=10)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if args.what == "kcenter":
        x = rng.standard_normal((args.n, args.d), dtype=np.float32)
        t0 = time.perf_counter()
        picks = kcenter(x, args.k)
    else:
        centers = rng.standard_normal((100, args.d), dtype=np.float32) * 4
        h = centers[rng.integers(0, 100, args.n)] + rng.standard_normal((args.n, args.d), dtype=np.float32)
        h = np.maximum(h, 0.0)
        z = rng.standard_normal((args.n, args.c), dtype=np.float32) * 2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        a = p.copy()
        a[np.arange(args.n), p.argmax(1)] -= 1.0
        t0 = time.perf_counter()
        picks = badge(a, h, args.k, rng)
    seconds = time.perf_counter() - t0
    assert len(set(picks)) == args.k, "picks are not unique"
    print(f"{args.what} {seconds:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
