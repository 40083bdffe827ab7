#!/usr/bin/env python3
"""A rolling update of 2 container replicas: Kiln's docker provider against Docker Swarm's own
`docker service update --image`, same image pair, same container health check, same run.

Image pair: kiln-bench/web:v1 and :v2, `docker import`s of one busybox rootfs plus a static
epoll HTTP server (/app; it answers / and /health with its $VER, listens on 127.0.0.1:$PORT
with SO_REUSEPORT, exits on SIGTERM), differing only in `ENV VER=`. Container health check
(both): CMD-SHELL `wget -q -O /dev/null http://127.0.0.1:$PORT/health` every 1 s, timeout
0.4 s, 2 retries.

Kiln: its own private engine (scripts/test-engine start), `kiln serve --time-scale 0.2` (the
spec's container health-check interval is at least 5 s, so kiln.yml says interval 5 / timeout
2 and the time scale makes them 1 s / 0.4 s; the LB's health check, the deregistration delay
and the grace period scale the same way) with service web: desiredCount 2, networkMode host,
minimumHealthyPercent 100 / maximumPercent 200 (start-first: both replacements start at once),
LB health check /health every 1 s, healthyThreshold HEALTHY_THRESHOLD, deregistrationDelay 1 s
(after scaling). A task takes traffic once the engine says healthy AND the LB's check passed
HEALTHY_THRESHOLD times; the deployment completes once the old tasks are drained and stopped.
Timed: `kiln service deploy web --image-definitions F --wait` from the call until it returns.
Meanwhile two client threads send GETs through the LB (one keep-alive connection, one new
connection per request), from 0.5 s before the deploy until 0.5 s after: every error or
non-200 is a failed request (goal 0), and afterwards the LB must serve the new version.

Swarm: a single-node swarm in a network namespace of its own (scripts/test-engine start-swarm;
its tasks' host network is that namespace's loopback), service web: 2 replicas, --network
host, PORT fixed (18080, both old and new tasks on it thanks to SO_REUSEPORT), the same health
check (--health-interval 1s --health-timeout 400ms --health-retries 2), --update-order
start-first --update-delay 0s, --stop-grace-period 2s. Swarm starts a replacement task, waits
for its container to report healthy (one passing probe), stops the old one, and once every
slot is done watches the new tasks for --update-monitor before UpdateStatus says completed.
Timed: `docker service update --detach --image ...` from the call until Swarm's
UpdateStatus.CompletedAt (polled every 50 ms). Two configurations, interleaved:
  A. --update-parallelism 1, --update-monitor 5s (Swarm's default monitor): the comparison the
     goal is about (issue 12: Swarm took 9.6 s median here).
  B. --update-parallelism 2, --update-monitor 1ms: Swarm at its fastest, both replacements at
     once like Kiln's maximumPercent 200 and no monitoring period to speak of (the API takes a
     monitor of 0 as "the default", 5 s). Swarm's update completes without draining anything
     (it has no load balancer here) and without waiting for the old tasks to stop; Kiln's
     deployment completes once the old tasks are drained (1 s) and stopped.

ROUNDS rounds of Kiln, Swarm A, Swarm B in turn, images alternating v1 <-> v2; medians.
Python 3 stdlib only; every address is 127.0.0.1, containers use host networking, no network
or bridge is created (Swarm's own ingress/docker_gwbridge stay in its namespace and go with it).
Usage: bench/container_rolling.py path/to/kiln
"""
import datetime
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import containerlib as cl  # noqa: E402
import serverlib as sl  # noqa: E402

TAG = "container-rolling"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
TIME_SCALE = 0.2           # kiln.yml's 5 s health-check interval -> 1 s
HEALTHY_THRESHOLD = 2      # the LB's healthy threshold (ELB's minimum; Docker needs 1 probe)
DEREGISTRATION_S = 5       # -> 1 s after scaling
SWARM_PORT = 18080         # inside the swarm's network namespace
SWARM_CONFIGS = {"A": ("1", "5s"), "B": ("2", "1ms")}  # parallelism, monitor
log = cl.log_to(TAG)


class Client(threading.Thread):
    """GETs through the LB until stopped, counting failures (errors and non-200 answers)."""

    def __init__(self, port, keepalive):
        super().__init__(daemon=True)
        self.port, self.keepalive = port, keepalive
        self.sent = self.failed = 0
        self.versions = {}
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/")
                r = conn.getresponse()
                r.read()
                self.sent += 1
                v = r.headers.get("X-Version")
                self.versions[v] = self.versions.get(v, 0) + 1
                if r.status != 200:
                    self.failed += 1
                    self.failures.append(f"HTTP {r.status}")
                if not self.keepalive or r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                self.sent += 1
                self.failed += 1
                self.failures.append(repr(e)[:120])
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.002)
        if conn is not None:
            conn.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


def kiln_rollout(kiln, server, tmp, lb_port, image, version):
    clients = [Client(lb_port, True), Client(lb_port, False)]
    for c in clients:
        c.start()
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        r = cl.kiln_cli(kiln, server, "service", "deploy", "web", "--image-definitions",
                        cl.image_definitions(tmp, image), "--wait")
        took = time.monotonic() - t0
        if r.returncode != 0:
            raise RuntimeError(f"kiln service deploy {image} failed ({r.returncode}): "
                               f"{r.stdout}{r.stderr}")
        time.sleep(0.5)
    finally:
        for c in clients:
            c.stop()
    cl.wait_serving(lb_port, version, timeout=10, count=10)
    return took, clients


def swarm_tasks_running(engine):
    status, tasks = engine.api(
        "GET", '/tasks?filters={"service":["web"],"desired-state":["running"]}')
    if status != 200:
        raise RuntimeError(f"GET /tasks: {status} {tasks}")
    return [t for t in tasks if t["Status"]["State"] == "running"], tasks


def swarm_get(engine, path="/"):
    """A GET inside the swarm's network namespace (its tasks listen on its loopback)."""
    r = subprocess.run(["nsenter", f"--net={engine.netns()}", "curl", "-s", "-m", "2", "-o",
                        "/dev/null", "-w", "%{http_code} %header{x-version}",
                        f"http://127.0.0.1:{SWARM_PORT}{path}"], capture_output=True, text=True)
    return r.stdout.strip()


def swarm_wait_serving(engine, version, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        running, _ = swarm_tasks_running(engine)
        last = swarm_get(engine)
        if len(running) == 2 and all(swarm_get(engine) == f"200 {version}" for _ in range(6)):
            return
        time.sleep(0.2)
    raise RuntimeError(f"swarm service web does not serve {version} with 2 tasks (last {last!r}; "
                       f"tasks {swarm_tasks_running(engine)[1]})")


def parse_time(text):
    """Swarm's RFC 3339 time with nanoseconds, as a Unix time."""
    base, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


def swarm_update(engine, image, config):
    parallelism, monitor = SWARM_CONFIGS[config]
    _, svc = engine.api("GET", "/services/web")
    before = (svc.get("UpdateStatus") or {}).get("StartedAt")
    t0 = time.time()
    engine.docker("service", "update", "--detach", "--no-resolve-image", "--image", image,
                  "--update-parallelism", parallelism, "--update-monitor", monitor, "web")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, svc = engine.api("GET", "/services/web")
        us = svc.get("UpdateStatus") or {}
        if us.get("StartedAt") and us.get("StartedAt") != before:
            if us.get("State") == "completed":
                return parse_time(us["CompletedAt"]) - t0
            if us.get("State") not in ("updating",):
                raise RuntimeError(f"swarm update to {image}: {us}")
        time.sleep(0.05)
    raise RuntimeError(f"swarm update to {image} did not complete in 120 s")


def main(kiln):
    try:
        cl.require_root_and_tools(["cc", "curl", "nsenter"])
        cl.docker_cli()
    except cl.Skip as e:
        print(f"{TAG}: skipped: {e}")
        return
    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="kiln-bench-crolling-", dir="/tmp")
    versions = ("v1", "v2")
    kiln_s, swarm_s = [], {k: [] for k in SWARM_CONFIGS}
    failed = sent = 0
    failures = []
    try:
        with cl.engines(swarm_too=True) as (eng, swarm):
            with open("/proc/loadavg") as f:
                log(f"machine: {os.cpu_count()} cores, load average "
                    f"{' '.join(f.read().split()[:3])} before the run")
            app = cl.compile_app(tmp)
            rootfs = cl.app_rootfs(cl.busybox_rootfs(kiln, eng, tmp), app, tmp)
            images = {}
            try:
                for e in (eng, swarm):
                    images = cl.import_images(e, rootfs, versions)
                lb_port = cl.free_port()
                config = cl.kiln_service_config(eng, images["v1"], lb_port, 2,
                                                HEALTHY_THRESHOLD, DEREGISTRATION_S)
                srv = os.path.join(tmp, "srv")
                with sl.Server(kiln, config, tmp=srv,
                               args=["--time-scale", str(TIME_SCALE)]) as server:
                    cl.wait_steady(kiln, server, images["v1"], 2)
                    cl.wait_serving(lb_port, "v1")
                    swarm.docker(
                        "service", "create", "--detach", "--no-resolve-image", "--name", "web",
                        "--replicas", "2", "--network", "host", "--env", f"PORT={SWARM_PORT}",
                        "--health-cmd", cl.HEALTH_CMD, "--health-interval", "1s",
                        "--health-timeout", "400ms", "--health-retries", "2",
                        "--update-order", "start-first", "--update-parallelism", "1",
                        "--update-delay", "0s", "--stop-grace-period", "2s", images["v1"])
                    try:
                        swarm_wait_serving(swarm, "v1")
                        log(f"Kiln: kiln serve pid {server.pid} --time-scale {TIME_SCALE}, LB "
                            f"127.0.0.1:{lb_port}, 2 tasks of {images['v1']} healthy; Swarm: "
                            f"service web, 2 tasks of {images['v1']} running (healthy)")
                        log(f"settings: container health check every 1 s (timeout 0.4 s, 2 "
                            f"retries) on both; Kiln min 100 / max 200 %, LB check every 1 s, "
                            f"healthyThreshold {HEALTHY_THRESHOLD}, deregistration "
                            f"{DEREGISTRATION_S * TIME_SCALE:g} s; Swarm start-first, A: "
                            f"parallelism 1 + monitor 5s (default), B: parallelism 2 + "
                            f"monitor 1ms")
                        cur = "v1"
                        for n in range(ROUNDS):
                            nxt = "v2" if cur == "v1" else "v1"
                            took, clients = kiln_rollout(kiln, server, tmp, lb_port, images[nxt],
                                                         nxt)
                            kiln_s.append(took)
                            f = sum(c.failed for c in clients)
                            s = sum(c.sent for c in clients)
                            failed, sent = failed + f, sent + s
                            for c in clients:
                                failures += c.failures
                            seen = {}
                            for c in clients:
                                for k, v in c.versions.items():
                                    seen[k] = seen.get(k, 0) + v
                            line = (f"round {n + 1}: {cur} -> {nxt}: Kiln {took:.2f} s "
                                    f"({s} requests through the LB, {f} failed, answered "
                                    f"{seen})")
                            for cfg_name, (par, mon) in SWARM_CONFIGS.items():
                                # each Swarm configuration rolls the image it does not run yet
                                running_v = swarm_get(swarm).split(" ")[-1]
                                target = "v2" if running_v == "v1" else "v1"
                                t = swarm_update(swarm, images[target], cfg_name)
                                swarm_wait_serving(swarm, target)
                                swarm_s[cfg_name].append(t)
                                line += f"; Swarm {cfg_name} ({running_v} -> {target}) {t:.2f} s"
                            log(line)
                            cur = nxt
                    finally:
                        swarm.docker("service", "rm", "web", check=False)
            finally:
                for e in (eng, swarm):
                    if e.host:
                        cl.remove_images(e, versions)
    except cl.Skip as e:
        print(f"{TAG}: skipped: {e}")
        return
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    k = statistics.median(kiln_s)
    a = statistics.median(swarm_s["A"])
    b = statistics.median(swarm_s["B"])
    log(f"Kiln rolling update of 2 tasks (deploy --wait): median {k:.2f} s "
        f"(min {min(kiln_s):.2f}, max {max(kiln_s):.2f}) over {len(kiln_s)} rollouts")
    log(f"Swarm A (parallelism 1, monitor 5s default): median {a:.2f} s (min "
        f"{min(swarm_s['A']):.2f}, max {max(swarm_s['A']):.2f})")
    log(f"Swarm B (parallelism 2, monitor 1ms): median {b:.2f} s (min {min(swarm_s['B']):.2f}, "
        f"max {max(swarm_s['B']):.2f})")
    log(f"ratio Kiln / Swarm A: {k / a:.2f} (goal <= 0.5); Kiln / Swarm B: {k / b:.2f}")
    log(f"requests through Kiln's LB during its rollouts: {sent}, failed {failed} (goal 0)"
        + (f"; first failures: {failures[:5]}" if failures else ""))
    log(f"total run time {time.monotonic() - t_start:.0f} s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
