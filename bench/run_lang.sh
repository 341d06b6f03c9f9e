#!/usr/bin/env bash
# Runs the lang/ benchmarks (median of 5 runs each) and prints a Markdown report.
set -euo pipefail
build=${1:-build}
"$build/bench/lang_bench" --runs "${RUNS:-5}"
