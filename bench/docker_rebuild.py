#!/usr/bin/env python3
"""A privileged container build (`kiln build --image kiln/busybox:1 --privileged`) whose
buildspec runs `docker build -t x .` of an unchanged small Dockerfile (FROM the busybox image,
COPY a file, CMD): the first build fills the engine's layer cache, then each further build is
timed, whole and its BUILD phase. Baseline: the same `docker build` run directly on the
engine. Goal: the build <= 2 s."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import enginelib  # noqa: E402

TAG = "docker-rebuild"
RUNS = 10
DOCKERFILE = f"FROM {enginelib.IMAGE}\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n"


def timed(argv, env):
    start = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, r


def build_phase_ms(stdout):
    record = json.loads(stdout)
    for p in record.get("phases", []):
        if p.get("phaseType") == "BUILD":
            return p.get("durationMillis", p.get("durationInSeconds", 0) * 1000)
    return float("nan")


def main(kiln):
    docker = enginelib.docker_cli()
    with enginelib.engine(kiln, TAG) as env, tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        if env is None:
            return
        src = os.path.join(tmp, "src")
        # The legacy builder: the 20.10 engine's BuildKit needs buildx, not in the image.
        enginelib.write_buildspec(src, ["docker build -q -t x ."],
                                  extra="env:\n  variables:\n    DOCKER_BUILDKIT: \"0\"\n")
        with open(os.path.join(src, "Dockerfile"), "w") as f:
            f.write(DOCKERFILE)
        with open(os.path.join(src, "hello.txt"), "w") as f:
            f.write("hello\n")
        argv = [kiln, "--state-dir", os.path.join(tmp, "state"), "build", "--json", "--in-place",
                "--image", enginelib.IMAGE, "--privileged", src]
        _, first = timed(argv, env)
        if first.returncode != 0:
            print(f"{TAG}: FAILED: the first build exited {first.returncode}: "
                  f"{first.stderr.strip()[-600:]}")
            return
        walls, phases, raw = [], [], []
        for _ in range(RUNS):
            wall, r = timed(argv, env)
            assert r.returncode == 0, r.stderr[-600:]
            walls.append(wall * 1000)
            phases.append(build_phase_ms(r.stdout))
            if docker:
                wall, d = timed([docker, "build", "-q", "-t", "x", src],
                                dict(env, DOCKER_BUILDKIT="0"))
                assert d.returncode == 0, d.stderr
                raw.append(wall * 1000)
        line = (f"{TAG}: cached rebuild in a privileged build  whole build median "
                f"{statistics.median(walls):.0f} ms  BUILD phase median "
                f"{statistics.median(phases):.0f} ms")
        if raw:
            line += (f"  docker build direct median {statistics.median(raw):.0f} ms  "
                     f"ratio {statistics.median(walls) / statistics.median(raw):.2f}")
        print(line + f" (goal <= 2000 ms, n={RUNS})")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
