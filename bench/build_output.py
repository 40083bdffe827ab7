#!/usr/bin/env python3
"""A build printing 500 MB of output (100-byte lines: `cat` of a prepared file) through
`kiln build`, against `cat` of the same bytes to /dev/null. Goals: at least 500 MB/s through
Kiln (which timestamps every line, stores the log on disk as it arrives and streams it to the
console) and under 30 MB peak RSS."""
import os
import sys
import subprocess
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402

BYTES = 500_000_000
LINE = "x" * 99 + "\n"


def main(kiln):
    with tempfile.TemporaryDirectory(prefix="kiln-bench-", dir="/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        data = os.path.join(tmp, "output.txt")
        # Made by a child process, so this script stays small (its size would count in the
        # children's peak RSS measured below).
        subprocess.run(["sh", "-c", f"yes {LINE.strip()} | head -c {BYTES} > {data}"], check=True)
        with open(os.path.join(src, "buildspec.yml"), "w") as f:
            f.write(f"version: 0.2\nphases:\n  build:\n    commands:\n      - cat {data}\n")
        state = os.path.join(tmp, "state")
        # Each run deletes the previous run's state first (log retention of one build), so the
        # runs do not pile gigabytes of dirty log pages onto each other.
        kiln_argv = ["sh", "-c", f'rm -rf "{state}"; exec "{kiln}" --state-dir "{state}" build "{src}"']
        cat_argv = ["sh", "-c", f"cat {data} > /dev/null"]
        k, c, ratio = benchlib.paired(kiln_argv, cat_argv, runs=5)
        assert k["exit_codes"] == [0], k
        mb = BYTES / 1e6
        print(f"build-output: {mb:.0f} MB  kiln build median {k['median_s']:.3f} s "
              f"({mb / k['median_s']:.0f} MB/s, goal >= 500)  cat median {c['median_s']:.3f} s "
              f"({mb / c['median_s']:.0f} MB/s)  ratio {ratio:.2f}")
        print(f"build-output: peak RSS of the kiln process tree {k['rss_mib']:.1f} MiB "
              f"(goal < 30)")
        logs = os.path.join(state, "logs")
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(logs) for f in fs)
        print(f"build-output: the build's stored log {size / 1e6:.0f} MB "
              "(every line timestamped, written as it arrives)")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
