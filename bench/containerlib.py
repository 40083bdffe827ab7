"""Shared parts of the container service benchmarks (container_rolling.py,
lb_container_latency.py): private engines from scripts/test-engine (plain, or a single-node
swarm in a network namespace of its own), the task image (a static epoll HTTP server in a
busybox rootfs, made with `docker import`), the Engine API over its unix socket, HAProxy and
wrk. Python 3 stdlib only; every address is 127.0.0.1; containers use host networking only.
"""
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# KILN_TEST_ENGINE: another scripts/test-engine (e.g. a branch's) while developing.
TEST_ENGINE = os.environ.get("KILN_TEST_ENGINE") or os.path.join(HERE, "..", "scripts",
                                                                   "test-engine")
REPO = "kiln-bench/web"

# A single-threaded epoll HTTP/1.1 keep-alive server (bench/lb_rolling.py's, plus: SO_REUSEPORT
# so that start-first rollouts on one fixed port work in Swarm, where host-networked tasks all
# listen on the same port; SIGTERM ends it at once even as PID 1; and its version from $VER,
# so one binary serves every image). It reads $PORT and answers GET / and /health with 200, its
# version in the body and an X-Version header.
APP_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
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
static char ok[256], nf[256], ver[64];
static int ok_len, nf_len, ver_len;
static const char *ok_close = "Connection: close\r\n";

static void drop(int ep, conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  conns[c->fd] = NULL;
  free(c);
}

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
    if (head + body > c->in) break;
    const char *r = known ? ok : nf;
    size_t n = known ? ok_len : nf_len;
    if (c->out + n + 128 > BUF) return 1;
    memcpy(c->wbuf + c->out, r, n - 2);  /* the response without its final CRLF */
    c->out += n - 2;
    if (close_after) { memcpy(c->wbuf + c->out, ok_close, 19); c->out += 19; }
    memcpy(c->wbuf + c->out, "\r\n", 2);
    c->out += 2;
    memcpy(c->wbuf + c->out, known ? ver : "not found\n", known ? ver_len : 10);
    c->out += known ? ver_len : 10;
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

static void on_term(int sig) { (void)sig; _exit(0); }

int main(void) {
  const char *port = getenv("PORT"), *v = getenv("VER");
  if (!port) { fprintf(stderr, "no $PORT\n"); return 2; }
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  ver_len = snprintf(ver, sizeof ver, "%.40s\n", v ? v : "unknown");
  ok_len = snprintf(ok, sizeof ok, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    "X-Version: %.40s\r\nContent-Length: %d\r\n\r\n", v ? v : "unknown", ver_len);
  nf_len = snprintf(nf, sizeof nf, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 10\r\n\r\n");
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(port)),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024)) { perror("bind"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  printf("app %s listening on 127.0.0.1:%s\n", v ? v : "unknown", port);
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
        if (serve(c) || c->in == BUF) c->closing = 1;
        if (flush(ep, c) < 0 || (c->closing && c->out == 0)) { drop(ep, c); continue; }
      }
    }
  }
}
"""

# The container health check of both Kiln's tasks and Swarm's (busybox wget, in the image).
HEALTH_CMD = "wget -q -O /dev/null http://127.0.0.1:$PORT/health"


class Skip(Exception):
    """Why a benchmark cannot run here (printed as one `skipped` line)."""


def log_to(tag):
    return lambda msg: print(f"{tag}: {msg}", flush=True)


def require_root_and_tools(tools):
    if os.geteuid() != 0:
        raise Skip(f"must run as root (uid {os.geteuid()})")
    if not shutil.which("dockerd"):
        raise Skip("dockerd not installed (scripts/install-deps)")
    for tool in tools:
        if not shutil.which(tool):
            raise Skip(f"{tool} not installed (scripts/install-bench-deps installs wrk and haproxy)")


def docker_cli():
    cli = shutil.which("docker") or (
        "/usr/local/bin/docker" if os.access("/usr/local/bin/docker", os.X_OK) else None)
    if not cli:
        raise Skip("the docker CLI is not installed")
    return cli


class Engine:
    """A private engine from scripts/test-engine in a temp dir: `start` (the host's network
    namespace) or `start-swarm` (a single-node swarm in its own namespace, DIR/netns). Stopped
    (containers removed, daemon stopped, mounts and namespace gone) by stop(), whatever
    happened."""

    def __init__(self, swarm=False):
        self.swarm = swarm
        self.dir = tempfile.mkdtemp(prefix="kiln-bench-swarm-" if swarm else "kiln-bench-engine-")
        self.host = None
        self.started = False

    def start(self):
        verb = "start-swarm" if self.swarm else "start"
        if not os.access(TEST_ENGINE, os.X_OK):
            raise Skip(f"{TEST_ENGINE} not found")
        self.started = True
        r = subprocess.run([TEST_ENGINE, verb, self.dir, "--if-possible"], capture_output=True,
                           text=True)
        if r.returncode == 2 and "usage" in r.stderr:
            raise Skip(f"{TEST_ENGINE} has no `{verb}` (set KILN_TEST_ENGINE to one that does)")
        if r.returncode != 0:
            raise RuntimeError(f"test-engine {verb} failed: {r.stdout}{r.stderr}")
        unavailable = os.path.join(self.dir, "unavailable")
        if os.path.exists(unavailable):
            with open(unavailable) as f:
                raise Skip(f"no Docker engine ({f.read().strip()})")
        with open(os.path.join(self.dir, "docker-host")) as f:
            self.host = f.read().strip()
        self.socket = self.host[len("unix://"):]
        self.env = dict(os.environ, DOCKER_HOST=self.host)
        return self

    def stop(self):
        try:
            if self.started and os.access(TEST_ENGINE, os.X_OK):
                subprocess.run([TEST_ENGINE, "stop-swarm" if self.swarm else "stop", self.dir],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def netns(self):
        return os.path.join(self.dir, "netns")

    def docker(self, *args, check=True, input=None):
        r = subprocess.run([docker_cli(), *args], env=self.env, capture_output=True, text=True,
                           input=input)
        if check and r.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
        return r

    def api(self, method, path, body=None):
        """One Engine API request over the unix socket: (status, parsed JSON or text)."""
        conn = UnixHTTPConnection(self.socket)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(data) if data else None
        except ValueError:
            return r.status, data.decode(errors="replace")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("engine", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


@contextlib.contextmanager
def engines(swarm_too=False):
    """A plain engine (and a swarm one), both stopped at the end whatever happens."""
    made = [Engine()] + ([Engine(swarm=True)] if swarm_too else [])
    try:
        for e in made:
            e.start()
        yield made
    finally:
        for e in made:
            e.stop()


def compile_app(tmp):
    """The app, statically linked (it runs in a busybox rootfs without a C library)."""
    src = os.path.join(tmp, "app.c")
    with open(src, "w") as f:
        f.write(APP_C)
    out = os.path.join(tmp, "app")
    r = subprocess.run(["cc", "-O2", "-static", "-o", out, src], capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip(f"cc -O2 -static failed (static libc missing?): {r.stderr.strip()[:300]}")
    return out


def busybox_rootfs(kiln, engine, tmp):
    """A busybox rootfs tar: `kiln image bootstrap --busybox` on `engine`, then `docker export`
    of a container made from it (created, never started; removed)."""
    boot = subprocess.run([kiln, "image", "bootstrap", "--busybox"], env=engine.env,
                          capture_output=True, text=True)
    if boot.returncode != 0:
        raise Skip(f"kiln image bootstrap --busybox failed: {boot.stderr.strip()}")
    name = f"kiln-bench-export-{os.getpid()}"
    engine.docker("create", "--name", name, "--network", "none", "kiln/busybox:1", "true")
    path = os.path.join(tmp, "busybox.tar")
    try:
        engine.docker("export", "-o", path, name)
    finally:
        engine.docker("rm", "-f", name, check=False)
    engine.docker("rmi", "kiln/busybox:1", check=False)
    return path


def app_rootfs(rootfs, app, tmp):
    """The busybox rootfs with the app as /app."""
    out = os.path.join(tmp, "web-rootfs.tar")
    with tarfile.open(rootfs) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        info = dst.gettarinfo(app, arcname="app")
        info.mode = 0o755
        info.uid = info.gid = 0
        with open(app, "rb") as f:
            dst.addfile(info, f)
    return out


def import_images(engine, rootfs_tar, versions):
    """kiln-bench/web:VERSION for each version: `docker import` with ENV VER=VERSION and /app as
    the entry point."""
    for v in versions:
        engine.docker("import", "--change", f"ENV VER={v}", "--change", 'ENTRYPOINT ["/app"]',
                      rootfs_tar, f"{REPO}:{v}")
    return {v: f"{REPO}:{v}" for v in versions}


def remove_images(engine, versions):
    for v in versions:
        engine.docker("rmi", "-f", f"{REPO}:{v}", check=False)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kiln_service_config(engine, image, lb_port, desired, lb_healthy_threshold, deregistration_s):
    """kiln.yml (as JSON) for service web on the docker provider: `desired` tasks of `image`
    with host networking, the container health check HEALTH_CMD every 5 s (timeout 2 s, the
    spec's minimum interval: run `kiln serve --time-scale 0.2` for 1 s), the LB's own health
    check on /health at the same interval, ECS start-first (min 100 / max 200), stopTimeout 2."""
    return {
        "clusters": {"eng": {"provider": "docker", "engine": engine.host}},
        "services": {"web": {
            "cluster": "eng",
            "desiredCount": desired,
            "taskDefinition": {
                "family": "web", "networkMode": "host",
                "containerDefinitions": [{
                    "name": "web", "image": image, "essential": True,
                    "healthCheck": {"command": ["CMD-SHELL", HEALTH_CMD], "interval": 5,
                                    "timeout": 2, "retries": 2}}]},
            "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200},
            "stopTimeout": 2,
            "loadBalancer": {
                "listen": f"127.0.0.1:{lb_port}",
                "healthCheck": {"path": "/health", "matcher": "200", "interval": 5, "timeout": 2,
                                "healthyThreshold": lb_healthy_threshold,
                                "unhealthyThreshold": 2},
                "deregistrationDelay": deregistration_s},
        }},
    }


def get(port, path="/", timeout=5):
    """GET on a new connection: (status, X-Version)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status, r.headers.get("X-Version")
    finally:
        conn.close()


def wait_serving(port, version, timeout=60, count=6):
    """Until `count` requests in a row on new connections answer 200 with `version`."""
    deadline = time.monotonic() + timeout
    streak = 0
    last = None
    while time.monotonic() < deadline:
        try:
            last = get(port)
            streak = streak + 1 if last == (200, version) else 0
        except OSError as e:
            last, streak = repr(e), 0
        if streak >= count:
            return
        time.sleep(0.05)
    raise RuntimeError(f"127.0.0.1:{port} does not serve {version} (last answer {last})")


def haproxy_cfg(path, port, targets, nbthread=1):
    servers = "\n".join(f"  server t{i} 127.0.0.1:{p}" for i, p in enumerate(targets))
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
    """`haproxy -f cfg -db` (foreground) in front of `targets`, stopped by its pid."""

    def __init__(self, tmp, targets, nbthread=1):
        self.port = free_port()
        self.cfg = os.path.join(tmp, f"haproxy-{nbthread}.cfg")
        haproxy_cfg(self.cfg, self.port, targets, nbthread)
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
                self.stop()
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


def kiln_cli(kiln, server, *args, timeout=180):
    """The kiln CLI against `server` (a serverlib.Server) with its local operator token."""
    return subprocess.run([kiln, "--server", server.url(), "--token", server.token(), *args],
                          capture_output=True, text=True, timeout=timeout)


def service_status(kiln, server):
    r = kiln_cli(kiln, server, "--json", "service", "status", "web")
    if r.returncode != 0:
        raise RuntimeError(f"kiln service status web: {r.stderr.strip()}")
    return json.loads(r.stdout)


def wait_steady(kiln, server, image, count, timeout=90):
    """Until service web runs `count` healthy RUNNING tasks of one revision, nothing else, and
    its one deployment is COMPLETED: the status."""
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        st = service_status(kiln, server)
        tasks = st.get("tasks", [])
        deps = st.get("deployments", [])
        if (len(tasks) == count and all(t.get("lastStatus") == "RUNNING"
                                        and t.get("healthStatus") == "HEALTHY" for t in tasks)
                and len(deps) == 1 and deps[0].get("rolloutState") == "COMPLETED"):
            return st
        time.sleep(0.2)
    raise RuntimeError(f"service web not steady with {count} tasks of {image}: "
                       f"{json.dumps(st)[:2000]}")


def image_definitions(tmp, image):
    path = os.path.join(tmp, f"imagedefinitions-{re.sub(r'[^a-z0-9]', '_', image)}.json")
    with open(path, "w") as f:
        json.dump([{"name": "web", "imageUri": image}], f)
    return path
