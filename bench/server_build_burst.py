#!/usr/bin/env python3
"""500 no-op builds (buildspec running `true`, no source) started through `kiln serve`'s API as
fast as 8 keep-alive connections can POST them (201 QUEUED), timed until every one has ended
(polling the kiln_builds_finished_total counter of /metrics every 5 ms; each build's record is
then checked to say SUCCEEDED). Goal: >= 500 builds/s (a peer C++ CI server: ~85/s).

Run with --max-builds 8 and 16. The server also caps builds per project at 4 (runner.h,
max_builds_per_project, not a flag), so the builds are spread round-robin over 16 projects
for those two runs; a third run puts all 500 in one project, to show that cap.
Baseline, same run: 500 x `sh -c true` spawned with the same parallelism (xargs -P N)."""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

BUILDS = 500
CLIENTS = 8
PROJECTS = 16


def post_all(server, names, count, clients):
    """POSTs `count` builds over `clients` connections (build i to project names[i % len]);
    returns (ids, seconds taken)."""
    ids, errors = [], []
    lock = threading.Lock()
    next_i = [0]

    def worker():
        conn = server.connect()
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= count:
                break
            path = f"/api/v1/projects/{names[i % len(names)]}/builds"
            status, body = server.request(conn, "POST", path, body={})
            if status != 201:
                errors.append((path, status, body[:300]))
                break
            bid = json.loads(body)["build"]["id"]
            with lock:
                ids.append(bid)
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"server-build-burst: POST {errors[0][0]} answered {errors[0][1]}: "
                         f"{errors[0][2]!r}")
    return ids, time.perf_counter() - start


def finished(server, conn):
    return sl.metric_sum(server.metrics(conn), "kiln_builds_finished_total")


def burst(kiln, max_builds, projects):
    names = [f"noop{i}" for i in range(projects)]
    config = {"projects": {n: {"buildspec": "noop.yml"} for n in names}}
    with sl.Server(kiln, config, {"noop.yml": sl.NOOP_BUILDSPEC},
                   args=["--max-builds", str(max_builds)]) as server:
        poll = server.connect()
        # Warm-up: a few builds through, so the first figures do not pay for cold caches.
        post_all(server, names, 2 * max_builds, CLIENTS)
        while finished(server, poll) < 2 * max_builds:
            time.sleep(0.005)
        before = finished(server, poll)
        cpu0 = sl.cpu_seconds(server.pid)
        start = time.perf_counter()
        ids, post_s = post_all(server, names, BUILDS, CLIENTS)
        while finished(server, poll) < before + BUILDS:
            time.sleep(0.005)
        total = time.perf_counter() - start
        cpu = sl.cpu_seconds(server.pid) - cpu0
        statuses = {}
        for bid in ids:
            s = server.get_json(f"/api/v1/builds/{bid}", poll)["build"]["buildStatus"]
            statuses[s] = statuses.get(s, 0) + 1
        poll.close()
    if statuses != {"SUCCEEDED": BUILDS}:
        print(f"server-build-burst: WARNING: build statuses {statuses}")
    return total, post_s, cpu


def baseline(parallel):
    start = time.perf_counter()
    subprocess.run(["sh", "-c", f"seq {BUILDS} | xargs -P {parallel} -n 1 sh -c true"],
                   check=True)
    return time.perf_counter() - start


def main(kiln):
    sl.print_machine("server-build-burst")
    print(f"server-build-burst: {BUILDS} no-op builds POSTed over {CLIENTS} keep-alive "
          "connections, timed until all ended")
    for max_builds, projects in ((8, PROJECTS), (16, PROJECTS), (16, 1)):
        total, post_s, cpu = burst(kiln, max_builds, projects)
        base = baseline(max_builds)
        rate, brate = BUILDS / total, BUILDS / base
        label = f"--max-builds {max_builds}, {projects} project{'s' if projects > 1 else ''}"
        print(f"server-build-burst: [{label}] {rate:.0f} builds/s ({total:.2f} s for {BUILDS}; "
              f"goal >= 500/s; peer ~85/s)")
        print(f"server-build-burst: [{label}] POSTs took {post_s:.2f} s "
              f"({BUILDS / post_s:.0f}/s); server process CPU {cpu:.2f} s "
              f"({cpu / BUILDS * 1000:.2f} ms per build, children excluded)")
        print(f"server-build-burst: [{label}] baseline {BUILDS} x sh -c true, xargs -P "
              f"{max_builds}: {brate:.0f}/s ({base:.2f} s); ratio kiln/baseline time "
              f"{total / base:.1f}")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
