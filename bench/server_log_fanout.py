#!/usr/bin/env python3
"""Log fan-out: a build printing 200 MB (`cat` of a file of 100-byte lines prepared
beforehand) started through `kiln serve`'s API (POST, 201 QUEUED), with 50 SSE clients
(processes forked by this script before the build starts, raw sockets) tailing GET /api/v1/builds/{id}/log with
Accept: text/event-stream, started right after the POST answered; each reads until the
server closes the stream and must have seen `event: end`; clients count bytes only.
Reported: time from the POST until the build's record says it ended (polled every 5 ms) and
until all 50 clients finished, the server's peak RSS (VmHWM at the end; a fresh server per
run), the largest kiln_event_loop_lag_seconds of /metrics (sampled every 100 ms during the
run) and the largest time one /metrics request took meanwhile.
Goals: total <= 0.4 s (a peer C++ CI server: 2.7 s) and RSS <= 30 MB.
Baselines, same run: the same build with no client, and `cat` of the file to /dev/null."""
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

BYTES = 200_000_000
LINE = "x" * 99 + "\n"
CLIENTS = 50


def tail_log(port, build_id):
    """One SSE client: reads the whole stream, counting bytes; returns (bytes, end time,
    whether `event: end` was the last event, the last bytes)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /api/v1/builds/{build_id}/log HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Accept: text/event-stream\r\n\r\n".encode())
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total, last = 0, b""
    while True:
        n = s.recv_into(view)
        if n == 0:
            break
        total += n
        last = (last + bytes(view[max(0, n - 256):n]))[-256:]
    s.close()
    return total, time.perf_counter(), b"event: end" in last, last[-80:]


def client_process(port, pipe):
    """A client process, started before the build: waits for the build id on its pipe, tails
    the log, sends back what tail_log returns. (Processes, not threads: 50 threads of one
    interpreter would queue on its lock and be slower readers than the server is a writer.)"""
    build_id = pipe.recv()
    pipe.send(tail_log(port, build_id))
    pipe.close()


class Sampler(threading.Thread):
    """Every 100 ms: the server's VmRSS, and the loop lag of /metrics (and how long that took)."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.stop = server, threading.Event()
        self.lag, self.metrics_ms, self.rss = [], [], []

    def run(self):
        conn = self.server.connect()
        while not self.stop.is_set():
            t = time.perf_counter()
            m = self.server.metrics(conn)
            self.metrics_ms.append((time.perf_counter() - t) * 1000)
            self.lag.append(m.get("kiln_event_loop_lag_seconds", 0.0) * 1000)
            self.rss.append(self.server.rss_kib() or 0)
            self.stop.wait(0.1)
        conn.close()


def one_run(kiln, tmp, clients):
    # The 50 clients share one address: the per-address cap on event streams (32 by default)
    # is raised so that none is refused.
    config = {"server": {"limits": {"event_streams_per_client": 64}},
              "projects": {"big": {"buildspec": "big.yml"}}}
    data = os.path.join(tmp, "output.txt")
    spec = f"version: 0.2\nphases:\n  build:\n    commands:\n      - cat {data}\n"
    with sl.Server(kiln, config, {"big.yml": spec}, tmp=os.path.join(tmp, f"srv{clients}")) as server:
        conn = server.connect()
        ctx = multiprocessing.get_context("fork")
        pipes, procs = [], []
        for _ in range(clients):  # started and waiting before the build is
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=client_process, args=(server.port, theirs))
            proc.start()
            pipes.append(mine)
            procs.append(proc)
        sampler = Sampler(server)
        sampler.start()
        time.sleep(0.3)  # a few idle samples first
        t0 = time.perf_counter()
        status, body = server.request(conn, "POST", "/api/v1/projects/big/builds", body={})
        if status != 201:
            raise SystemExit(f"server-log-fanout: POST /api/v1/projects/big/builds: {status} "
                             f"{body[:300]!r}")
        build_id = json.loads(body)["build"]["id"]
        for pipe in pipes:
            pipe.send(build_id)
        build = {}
        while True:
            build = server.get_json(f"/api/v1/builds/{build_id}", conn)["build"]
            if build["buildStatus"] not in ("QUEUED", "IN_PROGRESS"):
                break
            time.sleep(0.005)
        t_build = time.perf_counter() - t0
        results = []
        for pipe, proc in zip(pipes, procs):
            n, end, ended, head = pipe.recv()
            results.append({"bytes": n, "end": end, "ended": ended, "head": head})
            proc.join()
        t_clients = max((r["end"] for r in results), default=time.perf_counter()) - t0
        sampler.stop.set()
        sampler.join()
        hwm = server.hwm_kib()
        cpu = sl.cpu_seconds(server.pid)
        conn.close()
    return {"status": build["buildStatus"], "build_s": t_build, "clients_s": t_clients,
            "hwm_mib": hwm / 1024, "max_rss_mib": max(sampler.rss) / 1024,
            "lag_ms": max(sampler.lag), "metrics_ms": max(sampler.metrics_ms), "cpu_s": cpu,
            "client_bytes": [r["bytes"] for r in results],
            "bad_clients": [r for r in results if not r["ended"]]}


def main(kiln):
    sl.print_machine("server-log-fanout")
    with tempfile.TemporaryDirectory(prefix="kiln-bench-", dir="/tmp") as tmp:
        data = os.path.join(tmp, "output.txt")
        subprocess.run(["sh", "-c", f"yes {LINE.strip()} | head -c {BYTES} > {data}"], check=True)
        start = time.perf_counter()
        subprocess.run(["sh", "-c", f"cat {data} > /dev/null"], check=True)
        cat_s = time.perf_counter() - start
        alone = one_run(kiln, tmp, 0)
        fan = one_run(kiln, tmp, CLIENTS)
    mb = BYTES / 1e6
    print(f"server-log-fanout: build printing {mb:.0f} MB (100-byte lines), {CLIENTS} SSE "
          "clients started right after the POST")
    print(f"server-log-fanout: [{CLIENTS} clients] build ended after {fan['build_s']:.2f} s, "
          f"all clients done after {fan['clients_s']:.2f} s (goal total <= 0.4 s; peer 2.7 s)")
    per = sorted(fan["client_bytes"])
    print(f"server-log-fanout: [{CLIENTS} clients] each client read {per[0] / 1e6:.0f}.."
          f"{per[-1] / 1e6:.0f} MB ({sum(per) / 1e9:.1f} GB in all, "
          f"{sum(per) / 1e6 / fan['clients_s']:.0f} MB/s); "
          f"{len(fan['bad_clients'])} did not see event: end")
    print(f"server-log-fanout: [{CLIENTS} clients] server peak RSS (VmHWM) {fan['hwm_mib']:.1f} "
          f"MiB (goal <= 30 MB); largest sampled VmRSS {fan['max_rss_mib']:.1f} MiB")
    print(f"server-log-fanout: [{CLIENTS} clients] event-loop lag max {fan['lag_ms']:.0f} ms; "
          f"slowest /metrics request {fan['metrics_ms']:.0f} ms; server CPU {fan['cpu_s']:.2f} s")
    print(f"server-log-fanout: [no client] build ended after {alone['build_s']:.2f} s; peak RSS "
          f"{alone['hwm_mib']:.1f} MiB; loop lag max {alone['lag_ms']:.0f} ms; server CPU "
          f"{alone['cpu_s']:.2f} s")
    print(f"server-log-fanout: baseline cat of the file to /dev/null {cat_s:.3f} s")
    print(f"server-log-fanout: ratios: {CLIENTS}-client total / no-client build "
          f"{fan['clients_s'] / alone['build_s']:.1f}; no-client build / cat "
          f"{alone['build_s'] / cat_s:.1f}")
    if fan["status"] != "SUCCEEDED" or alone["status"] != "SUCCEEDED":
        print(f"server-log-fanout: WARNING: build status {fan['status']} / {alone['status']}")
    for r in fan["bad_clients"][:3]:
        print(f"server-log-fanout: WARNING: a client stopped after {r['bytes']} bytes without "
              f"event: end; last bytes {r['head']!r}")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
