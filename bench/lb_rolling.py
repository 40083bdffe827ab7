#!/usr/bin/env python3
"""Kiln's service load balancer under load (`kiln serve`, provider process, 3 tasks).

The task app is a tiny single-threaded epoll HTTP/1.1 keep-alive server in C (compiled here
with `cc -O2` into each bundle; it reads $PORT and answers GET / and /health with a fixed
200 body naming its version), so the tasks are not the bottleneck: its own throughput is
measured directly (wrk on one task) in the same run.

1. Rolling deployment under constant load: `wrk -t2 -c16` (keep-alive, closed loop: Debian's
   wrk has no fixed-rate mode) through the LB while `kiln service deploy web --wait` rolls
   3 tasks at minimumHealthyPercent 100 / maximumPercent 200 from one version to the other
   (v1 -> v2 -> v1 -> v2). wrk runs from ~1.5 s before the deploy until ~1.5 s after it
   returned (SIGINT, which makes wrk print its summary). Failed requests: wrk's "Non-2xx or
   3xx responses" plus its socket errors (connect/read/write/timeout); goal zero. A Lua
   script counts the versions answered per wrk thread and the last one each saw; afterwards
   30 fresh requests through the LB must all name the new version.
2. Latency added by the LB: wrk --latency on one task directly vs through the LB, same
   options, p50/p99 and the difference; with -t2 -c16 (loaded) and -t1 -c1 (unloaded).
3. Throughput: requests/s through Kiln's LB vs HAProxy (mode http, http-reuse always, the
   same 3 task ports, `haproxy -f cfg -db` in the foreground, started and stopped by pid),
   nbthread 1 (like Kiln's single event loop) and 2, same wrk options, and the ratios.

Measured runs are interleaved over ROUNDS rounds; medians are printed. wrk, kiln serve (whose
one event loop runs the LB), HAProxy and the tasks share the machine's cores (2 here).
Python 3 stdlib only; every address is 127.0.0.1. Usage: bench/lb_rolling.py path/to/kiln
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

THREADS, CONNECTIONS = 2, 16
ROUNDS = 3              # interleaved rounds of the throughput/latency runs
RUN_S = 3               # seconds per measured wrk run
ROLLOUTS = ["v2", "v1", "v2"]  # after the first deploy of v1
TAG = "lb-rolling"

APP_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 16384
typedef struct { int fd, closing; size_t in, out; char rbuf[BUF]; char wbuf[BUF]; } conn;
static conn *conns[65536];
static char ok[256], nf[256];
static int ok_len, nf_len;
static const char *ok_close = "Connection: close\r\n";

static void drop(int ep, conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  conns[c->fd] = NULL;
  free(c);
}

/* Answers every complete request in rbuf; returns 1 if the connection must close after. */
static int serve(conn *c) {
  int close_after = 0;
  for (;;) {
    char *end = memmem(c->rbuf, c->in, "\r\n\r\n", 4);
    if (!end) break;
    size_t head = (size_t)(end - c->rbuf) + 4, body = 0;
    char *sp = memchr(c->rbuf, ' ', head), *path = sp ? sp + 1 : c->rbuf;
    int known = (!strncmp(path, "/ ", 2) || !strncmp(path, "/health ", 8)) &&
                !strncmp(c->rbuf, "GET ", 4);
    for (char *p = memchr(c->rbuf, '\n', head); p && p < end; p = memchr(p + 1, '\n', end - p)) {
      if (!strncasecmp(p + 1, "content-length:", 15)) body = strtoul(p + 16, NULL, 10);
      if (!strncasecmp(p + 1, "connection:", 11)) {
        for (char *q = p + 12; q + 5 <= end && *q != '\r'; q++)
          if (!strncasecmp(q, "close", 5)) close_after = 1;
      }
    }
    char *nl = memchr(c->rbuf, '\n', head);
    if (nl && nl - c->rbuf >= 9 && !memcmp(nl - 9, "HTTP/1.0", 8)) close_after = 1;
    if (head + body > c->in) break;  /* body not all here yet */
    const char *r = known ? ok : nf;
    size_t n = known ? ok_len : nf_len;
    if (c->out + n + 32 > BUF) return 1;
    memcpy(c->wbuf + c->out, r, n - 2);  /* the response without its final CRLF */
    c->out += n - 2;
    if (close_after) { memcpy(c->wbuf + c->out, ok_close, 19); c->out += 19; }
    memcpy(c->wbuf + c->out, "\r\n", 2);
    c->out += 2;
    memcpy(c->wbuf + c->out, known ? VERSION "\n" : "not found\n", known ? strlen(VERSION) + 1 : 10);
    c->out += known ? strlen(VERSION) + 1 : 10;
    memmove(c->rbuf, c->rbuf + head + body, c->in - head - body);
    c->in -= head + body;
    if (close_after) break;
  }
  return close_after;
}

static int flush(int ep, conn *c) {
  size_t done = 0;
  while (done < c->out) {
    ssize_t w = write(c->fd, c->wbuf + done, c->out - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) break;
    if (w <= 0) return -1;
    done += (size_t)w;
  }
  memmove(c->wbuf, c->wbuf + done, c->out - done);
  c->out -= done;
  struct epoll_event ev = {.events = (c->closing ? 0 : EPOLLIN) | (c->out ? EPOLLOUT : 0),
                            .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

int main(void) {
  const char *port = getenv("PORT");
  if (!port) { fprintf(stderr, "no $PORT\n"); return 2; }
  ok_len = snprintf(ok, sizeof ok, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    "X-Version: %s\r\nContent-Length: %zu\r\n\r\n", VERSION, strlen(VERSION) + 1);
  nf_len = snprintf(nf, sizeof nf, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 10\r\n\r\n");
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(port)),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024)) { perror("bind"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  printf("app %s listening on 127.0.0.1:%s\n", VERSION, port);
  fflush(stdout);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (fd >= 65536) { close(fd); continue; }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          conns[fd] = nc;
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) {
        if (flush(ep, c) < 0 || (c->closing && c->out == 0)) { drop(ep, c); continue; }
      }
      if (c->closing) continue;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = read(c->fd, c->rbuf + c->in, BUF - c->in);
        if (r <= 0) {
          if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          drop(ep, c);
          continue;
        }
        c->in += (size_t)r;
        if (serve(c) || c->in == BUF) c->closing = 1;  /* c->in == BUF: request too large */
        if (flush(ep, c) < 0 || (c->closing && c->out == 0)) { drop(ep, c); continue; }
      }
    }
  }
}
"""

VERSIONS_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n_v1 = 0; n_v2 = 0; n_other = 0; last = "none" end
function response(status, headers, body)
  local v = headers["X-Version"]
  if status == 200 and v == "v1" then n_v1 = n_v1 + 1; last = v
  elseif status == 200 and v == "v2" then n_v2 = n_v2 + 1; last = v
  else n_other = n_other + 1 end
end
function done(summary, latency, requests)
  local a, b, c, lasts = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    a = a + t:get("n_v1"); b = b + t:get("n_v2"); c = c + t:get("n_other")
    table.insert(lasts, t:get("last"))
  end
  io.write(string.format("LUA versions v1=%d v2=%d other=%d last=%s\n", a, b, c,
                         table.concat(lasts, ",")))
end
"""


def log(msg):
    print(f"{TAG}: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_bundle(tmp, version):
    """deploy-VERSION/{imagedefinitions.json, bundle/web.tar.gz holding `app` (the C server)}."""
    src = os.path.join(tmp, f"app-{version}.c")
    with open(src, "w") as f:
        f.write(APP_C)
    stage = os.path.join(tmp, f"stage-{version}")
    os.makedirs(stage)
    subprocess.run(["cc", "-O2", f'-DVERSION="{version}"', "-o", os.path.join(stage, "app"), src],
                   check=True)
    d = os.path.join(tmp, f"deploy-{version}")
    os.makedirs(os.path.join(d, "bundle"))
    with tarfile.open(os.path.join(d, "bundle", "web.tar.gz"), "w:gz") as t:
        t.add(os.path.join(stage, "app"), arcname="app")
    with open(os.path.join(d, "imagedefinitions.json"), "w") as f:
        json.dump([{"name": "web", "imageUri": "bundle/web.tar.gz"}], f)
    return d


def service_config(lb_port):
    return {
        "clusters": {"local": {"provider": "process"}},
        "services": {"web": {
            "cluster": "local",
            "desiredCount": 3,
            "taskDefinition": {"containerDefinitions": [{
                "name": "web", "image": "bundle/web.tar.gz",
                # chmod in case the bundle's file modes are not kept when it is unpacked
                "command": ["/bin/sh", "-c", "chmod +x ./app 2>/dev/null; exec ./app"]}]},
            "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200},
            "healthCheckGracePeriodSeconds": 1,
            "loadBalancer": {
                "listen": f"127.0.0.1:{lb_port}",
                "healthCheck": {"path": "/health", "matcher": "200", "interval": 2,
                                "timeout": 1, "healthyThreshold": 2, "unhealthyThreshold": 2},
                "deregistrationDelay": 2},
        }},
    }


def cli(kiln, server, *args, timeout=120):
    return subprocess.run([kiln, "--server", server.url(), "--token", server.token(), *args],
                          capture_output=True, text=True, timeout=timeout)


def status(kiln, server):
    r = cli(kiln, server, "--json", "service", "status", "web")
    if r.returncode != 0:
        raise RuntimeError(f"service status: {r.stderr.strip()}")
    return json.loads(r.stdout)


def deploy(kiln, server, bundle_dir):
    t0 = time.monotonic()
    r = cli(kiln, server, "service", "deploy", "web", "--image-definitions",
            os.path.join(bundle_dir, "imagedefinitions.json"), "--wait")
    took = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"deploy {bundle_dir} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return took, r.stdout


def get(port, path="/"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
        return resp.status, resp.headers.get("X-Version"), resp.read()


def wait_serving(port, version, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(port)[1] == version:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"127.0.0.1:{port} does not serve {version}")


def wrk_argv(url, threads, connections, duration, script=None):
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--timeout=5s",
            "--latency"]
    if script:
        argv += ["-s", script]
    return argv + [url]


def parse_wrk(out):
    r = {"raw": out, "non2xx": 0, "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    r["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    r["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    for p in ("50", "99"):
        r[f"p{p}_ms"] = sl._ms(re.search(rf"\s{p}%\s+(\S+)", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    m = re.search(r"LUA versions v1=(\d+) v2=(\d+) other=(\d+) last=(\S+)", out)
    if m:
        r["versions"] = {"v1": int(m.group(1)), "v2": int(m.group(2)), "other": int(m.group(3))}
        r["last"] = m.group(4).split(",")
    return r


def wrk(url, threads=THREADS, connections=CONNECTIONS, duration=RUN_S):
    out = subprocess.run(wrk_argv(url, threads, connections, f"{duration}s"),
                         capture_output=True, text=True, check=True).stdout
    r = parse_wrk(out)
    if r["non2xx"] or sum(r["errors"].values()):
        log(f"  warning: {url}: non-2xx {r['non2xx']}, socket errors {r['errors']}")
    return r


def rollout(kiln, server, lb_port, bundle_dir, version, lua):
    """wrk through the LB while `kiln service deploy --wait` rolls to `version`."""
    w = subprocess.Popen(wrk_argv(f"http://127.0.0.1:{lb_port}/", THREADS, CONNECTIONS, "120s",
                                  lua), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        took, _ = deploy(kiln, server, bundle_dir)
        time.sleep(1.5)
    finally:
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
    r = parse_wrk(out)
    r["deploy_s"] = took
    answers = [get(lb_port) for _ in range(30)]
    r["after"] = sum(1 for s, v, _ in answers if s == 200 and v == version)
    return r


def haproxy_cfg(path, port, task_ports, nbthread):
    servers = "\n".join(f"  server t{i} 127.0.0.1:{p}" for i, p in enumerate(task_ports))
    with open(path, "w") as f:
        f.write(f"""global
  maxconn 4096
  nbthread {nbthread}
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
  option http-keep-alive
frontend fe
  bind 127.0.0.1:{port}
  default_backend be
backend be
  balance roundrobin
{servers}
""")


class HAProxy:
    def __init__(self, tmp, task_ports, nbthread):
        self.port = free_port()
        self.cfg = os.path.join(tmp, f"haproxy-{nbthread}.cfg")
        haproxy_cfg(self.cfg, self.port, task_ports, nbthread)
        self.err = open(os.path.join(tmp, f"haproxy-{nbthread}.log"), "w")
        self.proc = subprocess.Popen(["haproxy", "-f", self.cfg, "-db"], stdout=self.err,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if get(self.port)[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start: see {self.cfg}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # only the pid we started
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def main(kiln):
    sl.require_wrk()
    for tool in ("haproxy", "cc"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (scripts/install-bench-deps installs "
                             "wrk and haproxy)")
    t_start = time.monotonic()
    with open("/proc/loadavg") as f:
        log(f"load average before the run: {' '.join(f.read().split()[:3])} (other load on the "
            f"machine lowers every figure; run it alone)")
    tmp = tempfile.mkdtemp(prefix="kiln-bench-lb-", dir="/tmp")
    haproxies = []
    try:
        bundles = {v: make_bundle(tmp, v) for v in ("v1", "v2")}
        lua = os.path.join(tmp, "versions.lua")
        with open(lua, "w") as f:
            f.write(VERSIONS_LUA)
        lb_port = free_port()
        # kiln.yml beside a v1 bundle (the config's image; each deploy names its own)
        shutil.copytree(os.path.join(bundles["v1"], "bundle"), os.path.join(tmp, "srv", "bundle"))
        with sl.Server(kiln, service_config(lb_port), tmp=os.path.join(tmp, "srv")) as server:
            took, _ = deploy(kiln, server, bundles["v1"])
            wait_serving(lb_port, "v1")
            log(f"kiln serve pid {server.pid}, LB 127.0.0.1:{lb_port}; first deploy (v1, 3 tasks) "
                f"took {took:.1f} s")

            # 1. rolling deployments under load
            rolls = []
            for version in ROLLOUTS:
                r = rollout(kiln, server, lb_port, bundles[version], version, lua)
                rolls.append((version, r))
                errs = r["errors"]
                failed = r["non2xx"] + sum(errs.values())
                v = r.get("versions", {})
                log(f"rollout -> {version}: deploy --wait {r['deploy_s']:.1f} s; wrk -t{THREADS} "
                    f"-c{CONNECTIONS} {r['requests']} requests ({r['rps']:.0f}/s, p99 "
                    f"{r['p99_ms']:.2f} ms): failed {failed} (non-2xx {r['non2xx']}, socket errors "
                    f"connect {errs['connect']} read {errs['read']} write {errs['write']} "
                    f"timeout {errs['timeout']}); answered v1 {v.get('v1')} v2 {v.get('v2')} "
                    f"other {v.get('other')}; last seen per wrk thread {','.join(r.get('last', []))}"
                    f"; afterwards {r['after']}/30 fresh requests answered {version}")
            total_failed = sum(r["non2xx"] + sum(r["errors"].values()) for _, r in rolls)
            total_req = sum(r["requests"] for _, r in rolls)
            all_new = all(r["after"] == 30 and set(r.get("last", [])) == {v} for v, r in rolls)
            log(f"rollouts: {len(rolls)}, {total_req} requests, {total_failed} failed (goal 0); "
                f"new version served after each: {'yes' if all_new else 'NO'}; median deploy "
                f"{statistics.median(r['deploy_s'] for _, r in rolls):.1f} s")

            st = status(kiln, server)
            tasks = [t for t in st["tasks"] if t.get("lastStatus") == "RUNNING"] or st["tasks"]
            task_ports = sorted(t["port"] for t in tasks)[:3]
            if len(task_ports) != 3:
                raise RuntimeError(f"expected 3 running tasks, status: {json.dumps(st)[:2000]}")
            direct = f"http://127.0.0.1:{task_ports[0]}/"
            via_lb = f"http://127.0.0.1:{lb_port}/"
            for h in (1, 2):
                haproxies.append(HAProxy(tmp, task_ports, h))
            via_ha = {n: f"http://127.0.0.1:{h.port}/" for n, h in zip((1, 2), haproxies)}
            # warm-up: every path once
            for url in (direct, via_lb, *via_ha.values()):
                wrk(url, duration=1)

            # 2 + 3. interleaved rounds
            runs = {k: [] for k in ("direct", "lb", "ha1", "ha2", "direct_c1", "lb_c1")}
            cpu = {"lb": [], "ha1": [], "ha2": []}
            for _ in range(ROUNDS):
                runs["direct"].append(wrk(direct))
                c0 = sl.cpu_seconds(server.pid)
                runs["lb"].append(wrk(via_lb))
                cpu["lb"].append(sl.cpu_seconds(server.pid) - c0)
                for n, h in zip((1, 2), haproxies):
                    c0 = sl.cpu_seconds(h.proc.pid)
                    runs[f"ha{n}"].append(wrk(via_ha[n]))
                    cpu[f"ha{n}"].append(sl.cpu_seconds(h.proc.pid) - c0)
                runs["direct_c1"].append(wrk(direct, 1, 1, 2))
                runs["lb_c1"].append(wrk(via_lb, 1, 1, 2))
            for h in haproxies:
                h.stop()
    finally:
        for h in haproxies:
            h.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    bad = {k: sum(r["non2xx"] + sum(r["errors"].values()) for r in v) for k, v in runs.items()}
    log(f"wrk -t{THREADS} -c{CONNECTIONS} -d{RUN_S}s keep-alive, {ROUNDS} interleaved rounds, "
        f"medians; {os.cpu_count()} cores shared by wrk, kiln serve/HAProxy and the 3 tasks")
    for key, what in (("direct", "one task directly"), ("lb", "Kiln LB (3 tasks)"),
                      ("ha1", "HAProxy nbthread 1"), ("ha2", "HAProxy nbthread 2")):
        extra = ""
        if key in cpu:
            extra = f"  proxy CPU {statistics.median(cpu[key]) / RUN_S * 100:.0f}% of a core"
        log(f"  {what:20s} {med(runs[key], 'rps'):9.0f} req/s  p50 {med(runs[key], 'p50_ms'):6.3f} "
            f"ms  p99 {med(runs[key], 'p99_ms'):6.3f} ms  failed {bad[key]}{extra}")
    d, lb = runs["direct"], runs["lb"]
    log(f"latency added by the LB (-t{THREADS} -c{CONNECTIONS}): p50 "
        f"{med(lb, 'p50_ms') - med(d, 'p50_ms'):+.3f} ms, p99 "
        f"{med(lb, 'p99_ms') - med(d, 'p99_ms'):+.3f} ms")
    d1, lb1 = runs["direct_c1"], runs["lb_c1"]
    log(f"latency added by the LB (-t1 -c1 -d2s, unloaded): direct p50 {med(d1, 'p50_ms'):.3f} "
        f"p99 {med(d1, 'p99_ms'):.3f} ms; LB p50 {med(lb1, 'p50_ms'):.3f} p99 "
        f"{med(lb1, 'p99_ms'):.3f} ms; added p50 {med(lb1, 'p50_ms') - med(d1, 'p50_ms'):+.3f} "
        f"ms, p99 {med(lb1, 'p99_ms') - med(d1, 'p99_ms'):+.3f} ms")
    log(f"throughput ratio Kiln LB / HAProxy: {med(lb, 'rps') / med(runs['ha1'], 'rps'):.2f} "
        f"(nbthread 1), {med(lb, 'rps') / med(runs['ha2'], 'rps'):.2f} (nbthread 2); "
        f"Kiln LB / one task directly {med(lb, 'rps') / med(d, 'rps'):.2f}")
    log(f"total run time {time.monotonic() - t_start:.0f} s")
    if total_failed or not all_new:
        sys.exit(1)


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
