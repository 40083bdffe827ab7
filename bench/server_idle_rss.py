#!/usr/bin/env python3
"""Memory of an idle `kiln serve` (VmRSS from /proc/PID/status; VmHWM is the peak): 1 s after
it started, then after 1000 API requests over one keep-alive connection (then 1 s idle).
The requests: 50 no-op builds (POST /api/v1/projects/noop/builds?wait=true) and 950 reads
cycling over /healthz, /api/v1/projects, /api/v1/pipelines, /api/v1/pipelines/pl/state,
/api/v1/projects/noop/builds (the build list), /api/v1/builds/{id} and /metrics, with a
pipeline pl (Source from a local git repo -> Build noop) that has run once.
Goal: <= 8 MB (a peer C++ CI server: 9.5 MB). Baseline, same run: VmRSS of an idle `sleep`
(the floor of a process on this machine's libc)."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

REQUESTS = 1000
BUILDS = 50


def parts(pid):
    """Where the RSS is: anonymous memory, mapped files (the binary, shared libraries), and
    the thread count, from /proc/PID/status."""
    return (f"RssAnon {sl.proc_status(pid, 'RssAnon') / 1024:.1f} MiB, RssFile "
            f"{sl.proc_status(pid, 'RssFile') / 1024:.1f} MiB, threads "
            f"{sl.proc_status(pid, 'Threads')}")


def main(kiln):
    sl.print_machine("server-idle-rss")
    with tempfile.TemporaryDirectory(prefix="kiln-bench-", dir="/tmp") as tmp:
        config, files = sl.pipeline_config(tmp)
        sleeper = subprocess.Popen(["sleep", "60"])
        time.sleep(0.2)
        floor = sl.proc_status(sleeper.pid, "VmRSS")
        sleeper.terminate()
        sleeper.wait()
        with sl.Server(kiln, config, files) as server:
            time.sleep(1.0)
            rss_start, hwm_start = server.rss_kib(), server.hwm_kib()
            parts_start = parts(server.pid)
            conn = server.connect()
            # The pipeline's one execution (not counted in the 1000).
            execution = sl.run_execution(server, conn)
            build_ids = []
            reads = ["/healthz", "/api/v1/projects", "/api/v1/pipelines",
                     "/api/v1/pipelines/pl/state", "/api/v1/projects/noop/builds", None,
                     "/metrics"]
            done, statuses = 0, {}
            for i in range(REQUESTS):
                if i % (REQUESTS // BUILDS) == 0:
                    status, body = server.request(
                        conn, "POST", "/api/v1/projects/noop/builds?wait=true", body={})
                    if status == 200:
                        build_ids.append(json.loads(body)["build"]["id"])
                else:
                    path = reads[i % len(reads)] or f"/api/v1/builds/{build_ids[-1]}"
                    status, _ = server.request(conn, "GET", path)
                statuses[status] = statuses.get(status, 0) + 1
                done += 1
            conn.close()
            time.sleep(1.0)
            rss_after, hwm_after = server.rss_kib(), server.hwm_kib()
            parts_after = parts(server.pid)
    mib = lambda k: k / 1024.0  # noqa: E731
    print(f"server-idle-rss: pipeline execution before the requests: {execution.get('status')}; "
          f"{done} requests answered {statuses}")
    print(f"server-idle-rss: VmRSS after start {mib(rss_start):.1f} MiB (goal <= 8 MB; peer 9.5)")
    print(f"server-idle-rss: VmRSS after {REQUESTS} API requests {mib(rss_after):.1f} MiB "
          f"(goal <= 8 MB; peer 9.5)")
    print(f"server-idle-rss: of which after start: {parts_start}; after the requests: "
          f"{parts_after}")
    print(f"server-idle-rss: VmHWM (peak) after start {mib(hwm_start):.1f} MiB, after the "
          f"requests {mib(hwm_after):.1f} MiB")
    print(f"server-idle-rss: baseline idle `sleep` VmRSS {mib(floor):.1f} MiB; ratio "
          f"after-requests/baseline {rss_after / floor:.1f}")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
