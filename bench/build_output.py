#!/usr/bin/env python3
"""A build printing 500 MB of output (100-byte lines) through `kiln build`, against `cat` of
the same bytes to /dev/null. Goals: at least 500 MB/s through Kiln and under 30 MB peak RSS."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402

BYTES = 500_000_000
LINE = "x" * 99
GEN = f"yes {LINE} | head -c {BYTES}"


def main(kiln):
    with tempfile.TemporaryDirectory(prefix="kiln-bench-", dir="/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "buildspec.yml"), "w") as f:
            f.write(f"version: 0.2\nphases:\n  build:\n    commands:\n      - {GEN}\n")
        state = os.path.join(tmp, "state")
        kiln_argv = [kiln, "--state-dir", state, "build", src]
        cat_argv = ["sh", "-c", f"{GEN} | cat > /dev/null"]
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
        print(f"build-output: each build's stored log {size / 6 / 1e6:.0f} MB "
              "(every line timestamped, written as it arrives)")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
