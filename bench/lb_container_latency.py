#!/usr/bin/env python3
"""Request latency through Kiln's load balancer to ONE container task, against HAProxy in front
of the same container's port.

The task: service web on Kiln's docker provider (a private engine from scripts/test-engine,
networkMode host, desiredCount 1), image kiln-bench/web:v1 (a busybox rootfs plus a static
single-threaded epoll HTTP/1.1 keep-alive server, bench/containerlib.py; busybox httpd forks
per connection and would be the bottleneck). Kiln's LB listens on 127.0.0.1:LB; HAProxy 2.6
(`mode http`, `http-reuse always`, nbthread 1 like Kiln's one event loop, `haproxy -f cfg -db`,
started and stopped by pid) on another port in front of the task's port, which Kiln's status
names. The task is also measured directly.

`wrk --latency` keep-alive, -t1 -c1 (-d2s, unloaded) and -t2 -c16 (-d3s, loaded), ROUNDS
interleaved rounds (direct, Kiln, HAProxy, the order rotated each round): medians of p50, p99
and requests/s, and the ratio Kiln p50 / HAProxy p50 (goal <= 1.1). wrk, kiln serve, HAProxy
and the task share the machine's cores. Python 3 stdlib only; every address is 127.0.0.1.
Usage: bench/lb_container_latency.py path/to/kiln
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import containerlib as cl  # noqa: E402
import serverlib as sl  # noqa: E402

TAG = "lb-container-latency"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
LOADS = {"t1c1": (1, 1, "2s"), "t2c16": (2, 16, "3s")}
log = cl.log_to(TAG)


def main(kiln):
    try:
        cl.require_root_and_tools(["cc", "wrk", "haproxy"])
        cl.docker_cli()
    except cl.Skip as e:
        print(f"{TAG}: skipped: {e}")
        return
    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="kiln-bench-lblat-", dir="/tmp")
    runs = {(load, who): [] for load in LOADS for who in ("direct", "kiln", "haproxy")}
    cpu = {(load, who): [] for load in LOADS for who in ("kiln", "haproxy")}
    proxy = None
    try:
        with cl.engines() as (eng,):
            with open("/proc/loadavg") as f:
                log(f"machine: {os.cpu_count()} cores, load average "
                    f"{' '.join(f.read().split()[:3])} before the run")
            app = cl.compile_app(tmp)
            rootfs = cl.app_rootfs(cl.busybox_rootfs(kiln, eng, tmp), app, tmp)
            try:
                images = cl.import_images(eng, rootfs, ["v1"])
                lb_port = cl.free_port()
                config = cl.kiln_service_config(eng, images["v1"], lb_port, 1, 2, 5)
                with sl.Server(kiln, config, tmp=os.path.join(tmp, "srv"),
                               args=["--time-scale", "0.2"]) as server:
                    st = cl.wait_steady(kiln, server, images["v1"], 1)
                    task_port = st["tasks"][0]["port"]
                    cl.wait_serving(lb_port, "v1")
                    cl.wait_serving(task_port, "v1")
                    proxy = cl.HAProxy(tmp, [task_port], nbthread=1)
                    urls = {"direct": f"http://127.0.0.1:{task_port}/",
                            "kiln": f"http://127.0.0.1:{lb_port}/",
                            "haproxy": f"http://127.0.0.1:{proxy.port}/"}
                    pids = {"kiln": server.pid, "haproxy": proxy.proc.pid}
                    log(f"one container task of {images['v1']} on 127.0.0.1:{task_port}; Kiln LB "
                        f"127.0.0.1:{lb_port} (kiln serve pid {server.pid}); HAProxy nbthread 1 "
                        f"127.0.0.1:{proxy.port} (pid {proxy.proc.pid})")
                    for url in urls.values():  # warm-up
                        sl.wrk(url, 2, 16, "1s")
                    order = ["direct", "kiln", "haproxy"]
                    for n in range(ROUNDS):
                        for load, (t, c, d) in LOADS.items():
                            for who in order[n % 3:] + order[:n % 3]:
                                c0 = sl.cpu_seconds(pids[who]) if who in pids else 0
                                runs[(load, who)].append(sl.wrk(urls[who], t, c, d))
                                if who in pids:
                                    cpu[(load, who)].append(sl.cpu_seconds(pids[who]) - c0)
                    proxy.stop()
            finally:
                if proxy:
                    proxy.stop()
                cl.remove_images(eng, ["v1"])
    except cl.Skip as e:
        print(f"{TAG}: skipped: {e}")
        return
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
    bad = sum(r["non2xx"] + r["errors"] for rs in runs.values() for r in rs)
    log(f"wrk --latency keep-alive, {ROUNDS} interleaved rounds, medians; {os.cpu_count()} cores "
        f"shared by wrk, the proxy and the task; failed requests in all runs: {bad}")
    for load, (t, c, d) in LOADS.items():
        for who, what in (("direct", "task directly"), ("kiln", "Kiln LB"),
                          ("haproxy", "HAProxy nbthread 1")):
            rs = runs[(load, who)]
            extra = ""
            if (load, who) in cpu:
                secs = float(d.rstrip("s"))
                extra = f"  proxy CPU {statistics.median(cpu[(load, who)]) / secs * 100:.0f}%"
            log(f"  -t{t} -c{c} -d{d} {what:19s} p50 {med(rs, 'p50_ms'):6.3f} ms  p99 "
                f"{med(rs, 'p99_ms'):6.3f} ms  {med(rs, 'rps'):8.0f} req/s{extra}")
        k, h = runs[(load, "kiln")], runs[(load, "haproxy")]
        log(f"  -t{t} -c{c}: Kiln p50 / HAProxy p50 = {med(k, 'p50_ms') / med(h, 'p50_ms'):.2f} "
            f"(goal <= 1.1); p99 ratio {med(k, 'p99_ms') / med(h, 'p99_ms'):.2f}; req/s ratio "
            f"{med(k, 'rps') / med(h, 'rps'):.2f}")
    log(f"total run time {time.monotonic() - t_start:.0f} s")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
