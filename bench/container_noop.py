#!/usr/bin/env python3
"""A no-op build (`true`) run by `kiln build --image kiln/busybox:1`, start to SUCCEEDED,
against `docker run --rm --network host IMAGE true` on the same private engine, alternated.
Kiln's container uses the host's network (the engine has no bridge), so the baseline does too:
a private network namespace would add ~240 ms to the baseline alone (DOCKER-ENGINE.md §5).
Goal: ratio <= 1.1."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402
import enginelib  # noqa: E402

TAG = "container-noop"
RUNS = 11


def main(kiln):
    docker = enginelib.docker_cli()
    if not docker:
        print(f"{TAG}: skipped: no docker CLI for the baseline")
        return
    with enginelib.engine(kiln, TAG) as env, tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        if env is None:
            return
        src = os.path.join(tmp, "src")
        enginelib.write_buildspec(src, ["true"])
        kiln_argv = [kiln, "--state-dir", os.path.join(tmp, "state"), "build", "--in-place",
                     "--image", enginelib.IMAGE, src]
        docker_argv = [docker, "run", "--rm", "--network", "host", enginelib.IMAGE, "true"]
        k, d, ratio = benchlib.paired(kiln_argv, docker_argv, runs=RUNS, env=env)
        assert k["exit_codes"] == [0] and d["exit_codes"] == [0], (k, d)
        print(f"{TAG}: kiln build --image median {k['median_s']*1000:.0f} ms  "
              f"docker run --rm median {d['median_s']*1000:.0f} ms  ratio {ratio:.2f} "
              f"(goal <= 1.1, n={RUNS} each)")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
