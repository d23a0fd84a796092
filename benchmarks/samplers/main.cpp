// alx-bench: `alx-bench samplers --preset quick --out runs/bench-quick`.
// A program that registers its own sampler (alx::sampling::register_sampler) and then calls
// alx::bench::samplers_main benchmarks it by name next to the built-in ones.
#include "bench_samplers.h"

int main(int argc, char** argv) { return alx::bench::samplers_main(argc, argv); }
