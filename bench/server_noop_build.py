#!/usr/bin/env python3
"""A no-op build (buildspec running `true`, no source) started through `kiln serve`'s API with
POST /api/v1/projects/noop/builds?wait=true, which answers only once the build's record says
SUCCEEDED; one at a time over one keep-alive connection. Goal: median <= 2.5 ms (a peer C++ CI
server: 24.5 ms). Baseline, measured in the same run: spawning `sh -c true` and waiting for it
(posix_spawn + waitpid from this script)."""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

WARMUP = 10
RUNS = 200
MIN_RUNS, TIME_CAP_S = 50, 30.0  # fewer than RUNS when each takes long (at least MIN_RUNS)


def spawn_true():
    start = time.perf_counter()
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "true"], os.environ)
    os.waitpid(pid, 0)
    return time.perf_counter() - start


def stamp_ms(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def main(kiln):
    sl.print_machine("server-noop-build")
    config = {"projects": {"noop": {"buildspec": "noop.yml"}}}
    with sl.Server(kiln, config, {"noop.yml": sl.NOOP_BUILDSPEC}) as server:
        conn = server.connect()
        path = "/api/v1/projects/noop/builds?wait=true"
        lat, base, inside = [], [], []
        began = time.perf_counter()
        for i in range(WARMUP + RUNS):
            if len(lat) >= MIN_RUNS and time.perf_counter() - began > TIME_CAP_S:
                break
            start = time.perf_counter()
            status, body = server.request(conn, "POST", path, body={})
            wall = time.perf_counter() - start
            build = json.loads(body).get("build", {}) if status == 200 else {}
            if status != 200 or build.get("buildStatus") != "SUCCEEDED":
                raise SystemExit(f"server-noop-build: POST {path} answered {status}: {body[:300]!r}")
            b = spawn_true()  # interleaved, so both see the same machine load
            if i >= WARMUP:
                lat.append(wall * 1000)
                inside.append(stamp_ms(build["endTime"]) - stamp_ms(build["startTime"]))
                base.append(b * 1000)
        conn.close()
        rss = server.rss_kib()
    med, p90, p99 = sl.median(lat), sl.percentile(lat, 90), sl.percentile(lat, 99)
    bmed = sl.median(base)
    print(f"server-noop-build: runs {len(lat)} (after {WARMUP} warm-up), one at a time, "
          "POST ?wait=true on one keep-alive connection")
    print(f"server-noop-build: latency median {med:.2f} ms (goal <= 2.5; peer 24.5)")
    print(f"server-noop-build: latency p90 {p90:.2f} ms")
    print(f"server-noop-build: latency p99 {p99:.2f} ms  min {min(lat):.2f} ms  max {max(lat):.2f} ms")
    imed = sl.median(inside)
    print(f"server-noop-build: of which inside the build engine (the record's startTime to "
          f"endTime, ms resolution) median {imed:.0f} ms; around it (queue, dispatch, store, "
          f"HTTP) ~{med - imed:.1f} ms")
    print(f"server-noop-build: baseline sh -c true spawn+wait median {bmed:.2f} ms")
    print(f"server-noop-build: ratio median/baseline {med / bmed:.1f}")
    print(f"server-noop-build: server RSS after the runs {rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
