#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time (default 60 s). Needs nightly.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
cargo +nightly fuzz build -O
for t in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run -O "$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 -timeout=20
done
