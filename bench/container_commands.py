#!/usr/bin/env python3
"""1000 commands (`true`) through `kiln build --image kiln/busybox:1` against the same build on
the host executor (`kiln build` without an image), alternated, on a private engine.
Goal: per-command cost ratio <= 1.2. The per-command cost is each environment's 1000-command
build less its no-op build (the container's start and removal, ~120 ms, is the no-op
benchmark's subject); the whole-build ratio is printed too."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402
import enginelib  # noqa: E402

TAG = "container-commands"
N = 1000
RUNS = 10


def main(kiln):
    with enginelib.engine(kiln, TAG) as env, tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        if env is None:
            return
        src = os.path.join(tmp, "src")
        enginelib.write_buildspec(src, ["true"] * N)
        state = os.path.join(tmp, "state")
        container = [kiln, "--state-dir", state, "build", "--in-place", "--image",
                     enginelib.IMAGE, src]
        host = [kiln, "--state-dir", state, "build", "--in-place", src]
        c, h, ratio = benchlib.paired(container, host, runs=RUNS, env=env)
        assert c["exit_codes"] == [0] and h["exit_codes"] == [0], (c, h)
        noop = os.path.join(tmp, "noop")
        enginelib.write_buildspec(noop, ["true"])
        c0, h0, _ = benchlib.paired(
            [kiln, "--state-dir", state, "build", "--in-place", "--image", enginelib.IMAGE, noop],
            [kiln, "--state-dir", state, "build", "--in-place", noop], runs=RUNS, env=env)
        per_c = (c["median_s"] - c0["median_s"]) * 1e6 / (N - 1)
        per_h = (h["median_s"] - h0["median_s"]) * 1e6 / (N - 1)
        print(f"{TAG}: per command  in a container {per_c:.0f} us  on the host {per_h:.0f} us  "
              f"ratio {per_c / per_h:.2f} (goal <= 1.2; no-op builds {c0['median_s']*1000:.0f} "
              f"and {h0['median_s']*1000:.0f} ms)")
        print(f"{TAG}: {N} commands  in a container median {c['median_s']*1000:.0f} ms  "
              f"on the host median {h['median_s']*1000:.0f} ms  ratio {ratio:.2f} "
              f"(whole build, n={RUNS} each)")
        per = (c["median_s"] - h["median_s"]) * 1000
        print(f"{TAG}: the container costs {per:.0f} ms more per build "
              f"(its start/stop, and {N} commands over the attach stream)")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
