"""`make bench`: every benchmark, one after the other."""

from __future__ import annotations

import runpy
import sys

MODULES = [
    "benchmarks.accuracy",
    "benchmarks.speed",
    "benchmarks.queue_bench",
    "benchmarks.broadcast_bench",
    "benchmarks.delivery_bench",
    "benchmarks.first_screen",
]


def main() -> None:
    for module in MODULES:
        print(f"== {module}")
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__")
    print("== benchmarks.accuracy (dev)")
    sys.argv = ["benchmarks.accuracy", "--split", "dev"]
    runpy.run_module("benchmarks.accuracy", run_name="__main__")


if __name__ == "__main__":
    main()
