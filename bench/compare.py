#!/usr/bin/env python3
"""Side-by-side timing of commands on one tree, interleaved.

usage: bench/compare.py DIR RUNS 'command 1' 'command 2' ...

Runs every command once to warm the cache, then RUNS rounds, each running every command once
(in reverse order every other round), and prints each command's median wall time, its ratio to
the first command's, its minimum, and its median user and system CPU. On a shared VM the speed
drifts over tens of seconds; interleaving puts that drift on every command alike, where
back-to-back batches (hyperfine's) put it on whichever ran during a slow spell.

Example (two builds against the ripgrep floor):
  bench/compare.py /work/bench-trees/sparse 10 \\
    "rg -i -F -c -f /tmp/phi-lint-bench/keywords.txt ." \\
    "old/phi-lint check --format json --exit-zero --quiet ." \\
    "new/phi-lint check --format json --exit-zero --quiet ."
"""
import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    tree, runs, commands = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    quiet = {"cwd": tree, "shell": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    samples = {c: [] for c in commands}
    for c in commands:
        subprocess.run(c, **quiet)
    for i in range(runs):
        for c in commands if i % 2 == 0 else reversed(commands):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(c, **quiet)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            samples[c].append((wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime))
    first = statistics.median(w for w, _, _ in samples[commands[0]])
    for c in commands:
        wall = [w for w, _, _ in samples[c]]
        med = statistics.median(wall)
        user = statistics.median(u for _, u, _ in samples[c])
        sys_ = statistics.median(s for _, _, s in samples[c])
        print(
            f"{med * 1000:8.1f} ms  {med / first:5.2f}x  min {min(wall) * 1000:8.1f} ms"
            f"  user {user * 1000:7.0f} ms  sys {sys_ * 1000:6.0f} ms  {c}"
        )


if __name__ == "__main__":
    main()
