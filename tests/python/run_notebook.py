"""Executes a notebook top to bottom in a fresh /usr/bin/python3 kernel (headless).

    python3 tests/python/run_notebook.py examples/notebooks/quickstart.ipynb [--output out.ipynb]

Exits non-zero when a cell raises; prints the wall time.
"""
import argparse
import os
import sys
import time

import nbformat
from nbclient import NotebookClient


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--output", help="write the executed notebook here")
    ap.add_argument("--timeout", type=int, default=280, help="seconds per cell")
    args = ap.parse_args()

    # The kernel inherits this environment: Debian's python first, a headless backend.
    os.environ["PATH"] = "/usr/bin:" + os.environ.get("PATH", "")
    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                            resources={"metadata": {"path": os.getcwd()}})
    start = time.monotonic()
    try:
        client.execute()
    finally:
        if args.output:
            nbformat.write(nb, args.output)
    print(f"{args.notebook}: {len(nb.cells)} cells executed in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
