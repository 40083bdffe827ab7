#!/usr/bin/env python3
"""1000 commands (`true`) through `kiln build` against the same 1000 commands, each in its own
subshell, in one `sh` process. Goal: ratio at most 1.5."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402

N = 1000


def main(kiln):
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "buildspec.yml"), "w") as f:
            f.write("version: 0.2\nphases:\n  build:\n    commands:\n")
            f.write("      - true\n" * N)
        state = os.path.join(tmp, "state")
        kiln_argv = [kiln, "--state-dir", state, "build", src]
        sh_argv = ["sh", "-c", "; ".join(["(true)"] * N)]
        k, s, ratio = benchlib.paired(kiln_argv, sh_argv, runs=7)
        assert k["exit_codes"] == [0], k
        print(f"build-commands: {N} commands  kiln build median {k['median_s']*1000:.1f} ms  "
              f"sh subshells median {s['median_s']*1000:.1f} ms  ratio {ratio:.2f} (goal <= 1.5)")
        per_cmd = (k["median_s"] - s["median_s"]) / N * 1e6
        print(f"build-commands: kiln overhead per command {per_cmd:.1f} us beyond the subshell fork")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
