#!/usr/bin/python3
"""alx.score(p, "entropy") against the same formula in numpy, in the same process.

    PYTHONPATH=build/python /usr/bin/python3 benchmarks/bench_python_score.py [--n 1000000] [--c 10]
        [--repeats 7] [--processes 3] [--threads 0]

p is [N, C] float32 (rows drawn from a Dirichlet, fixed seed). The numpy baseline is
-sum(p * log(p), axis=1) in float32 (p > 0, so no 0 log 0 guard is needed). alx validates
every row (finite, sums to 1) in the same pass unless --no-validate. Each process reports
the median of --repeats timings; because Python processes of the same script land in a
fast or a slow mode (see FACTS.md), the script re-launches itself --processes times and
reports the median ratio over processes.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} logical cores"


def one_process(args) -> dict:
    import numpy as np
    import torch

    import alx

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    p = rng.gamma(0.7, size=(args.n, args.c)).astype(np.float32) + np.float32(1e-6)
    p /= p.sum(axis=1, keepdims=True)

    def numpy_entropy():
        return -(p * np.log(p)).sum(axis=1)

    def alx_entropy():
        return alx.score(p, "entropy", validate=not args.no_validate)

    ref, got = numpy_entropy(), alx_entropy()
    max_diff = float(np.abs(ref.astype(np.float64) - got).max())

    def median_seconds(fn):
        fn()  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    # Interleave so that both see the same machine load.
    t_np, t_alx = [], []
    for _ in range(2):
        t_np.append(median_seconds(numpy_entropy))
        t_alx.append(median_seconds(alx_entropy))
    t_np, t_alx = min(t_np), min(t_alx)
    return {"numpy_s": t_np, "alx_s": t_alx, "ratio": t_np / t_alx, "max_abs_diff": max_diff,
            "threads": torch.get_num_threads(), "numpy": np.__version__, "torch": torch.__version__}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--c", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="LibTorch intra-op threads (0: torch's default)")
    ap.add_argument("--no-validate", action="store_true", help="skip alx's row checks")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        print(json.dumps(one_process(args)))
        return 0

    print("command:", " ".join([sys.executable] + sys.argv))
    print("machine:", machine())
    child_cmd = [sys.executable, os.path.abspath(__file__), "--child", "--n", str(args.n), "--c", str(args.c),
                 "--repeats", str(args.repeats), "--threads", str(args.threads)]
    if args.no_validate:
        child_cmd.append("--no-validate")
    results = []
    for i in range(args.processes):
        out = subprocess.run(child_cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        results.append(r)
        print(f"process {i + 1}: numpy {r['numpy_s'] * 1e3:8.2f} ms   alx {r['alx_s'] * 1e3:8.2f} ms   "
              f"ratio {r['ratio']:.2f}x   max |diff| {r['max_abs_diff']:.1e}")
    r0 = results[0]
    print(f"input: [{args.n:,}, {args.c}] float32, entropy, validate={not args.no_validate}, "
          f"LibTorch threads {r0['threads']}, numpy {r0['numpy']}, torch {r0['torch']}")
    ratio = statistics.median(r["ratio"] for r in results)
    print(f"ratio numpy / alx (median over {len(results)} processes): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
