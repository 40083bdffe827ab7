"""Shared helpers for the `kiln serve` benchmarks (bench/server_*.py): start the server on a
loopback port in a temp dir, talk to it over keep-alive HTTP, read its memory from /proc, run
wrk, and small statistics. Python 3 stdlib only (wrk is installed by scripts/install-bench-deps).
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

NOOP_BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - "true"\n'
SECRET = "bench-webhook-secret"
ARN = "arn:aws:codestar-connections:us-east-1:123456789012:connection/bench"


def percentile(values, p):
    """The p-th percentile (0..100) by nearest rank on the sorted values."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def median(values):
    return statistics.median(values)


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
                   cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_repo(path):
    """A git repository with branches main and prod (one commit holding buildspec.yml and
    noop.yml, both the no-op buildspec: a project's buildspec path is read from the source)."""
    os.makedirs(path)
    git("init", "-q", "-b", "main", cwd=path)
    for name in ("buildspec.yml", "noop.yml"):
        with open(os.path.join(path, name), "w") as f:
            f.write(NOOP_BUILDSPEC)
    git("add", ".", cwd=path)
    git("commit", "-qm", "one commit", cwd=path)
    git("branch", "prod", cwd=path)
    return path


def source_build_pipeline(name, project):
    """Source (CodeStarSourceConnection cruddur, branch prod) -> Build (CodeBuild project)."""
    return {"pipeline": {"name": name, "stages": [
        {"name": "Source", "actions": [{
            "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "AWS",
                             "provider": "CodeStarSourceConnection", "version": "1"},
            "configuration": {"ConnectionArn": ARN, "FullRepositoryId": "acme/cruddur",
                              "BranchName": "prod"},
            "outputArtifacts": [{"name": "SourceArtifact"}]}]},
        {"name": "Build", "actions": [{
            "name": "Build",
            "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                             "version": "1"},
            "configuration": {"ProjectName": project},
            "inputArtifacts": [{"name": "SourceArtifact"}]}]}]}}


def proc_status(pid, key):
    """A kB figure from /proc/PID/status (VmRSS, VmHWM, ...), in KiB; None once gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """utime + stime of a process (not its children), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


class Server:
    """`kiln serve --listen 127.0.0.1:0` in its own temp dir, with a kiln.yml written from
    `config` (a dict, written as JSON) and extra `files` (name -> text) beside it.

        with Server(kiln, config, files) as s:
            conn = s.connect(); s.request(conn, "GET", "/healthz")
    """

    def __init__(self, kiln, config, files=None, args=(), tmp=None):
        self.kiln = kiln
        self.config = config
        self.files = files or {}
        self.args = list(args)
        self._own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="kiln-bench-server-", dir="/tmp")
        self.state = os.path.join(self.tmp, "state")
        self.proc = None
        self.port = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)  # stop it and remove the temp dir all the same
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=60):
        os.makedirs(self.tmp, exist_ok=True)
        for name, text in self.files.items():
            path = os.path.join(self.tmp, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        yml = os.path.join(self.tmp, "kiln.yml")
        with open(yml, "w") as f:
            json.dump(self.config, f, indent=1)
        env = dict(os.environ, BENCH_SECRET=SECRET)
        self.out_path = os.path.join(self.tmp, "serve.out")
        self.err_path = os.path.join(self.tmp, "serve.err")
        argv = [self.kiln, "--state-dir", self.state, "--config", yml, "serve",
                "--listen", "127.0.0.1:0", "--grace", "5s", *self.args]
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, cwd=self.tmp, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        pattern = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
        while time.monotonic() < deadline:
            with open(self.out_path) as f:
                m = pattern.search(f.readline())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError(f"kiln serve did not start: {self.stderr()}")

    def stderr(self):
        try:
            with open(self.err_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM to the server we started (only that pid), then wait for it."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def connect(self, timeout=120):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, conn, method, path, body=None, headers=None):
        """One request on a keep-alive connection: (status, body bytes)."""
        h = {"Content-Type": "application/json"} if body is not None else {}
        if method != "GET":
            h["Authorization"] = "Bearer " + self.token()
        h.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, r.read()

    def token(self):
        """The local operator token `kiln serve` keeps in its state dir (no tokens in kiln.yml)."""
        if not getattr(self, "_token", None):
            with open(os.path.join(self.state, "server-token")) as f:
                self._token = f.read().strip()
        return self._token

    def get_json(self, path, conn=None):
        c = conn or self.connect()
        try:
            status, body = self.request(c, "GET", path)
        finally:
            if conn is None:
                c.close()
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        return json.loads(body)

    def metrics(self, conn=None):
        """GET /metrics as {'name{labels}': value}."""
        c = conn or self.connect()
        try:
            status, body = self.request(c, "GET", "/metrics")
        finally:
            if conn is None:
                c.close()
        out = {}
        for line in body.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            try:
                out[key] = float(value)
            except ValueError:
                pass
        return out

    def rss_kib(self):
        return proc_status(self.pid, "VmRSS")

    def hwm_kib(self):
        return proc_status(self.pid, "VmHWM")


def metric_sum(metrics, name, **labels):
    """The sum of a metric's samples whose labels include all of `labels`."""
    total = 0.0
    for key, value in metrics.items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += value
    return total


def sign(body):
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def push_body(ref, after, n):
    return json.dumps({
        "ref": ref, "before": "0" * 40, "after": after,
        "repository": {"full_name": "acme/cruddur", "clone_url": "file:///dev/null"},
        "head_commit": {"message": f"bench {n}"}, "commits": [], "sender": {"id": 1},
    }, separators=(",", ":")).encode()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url, threads=2, connections=16, duration="10s", script=None, timeout="10s", extra=()):
    """Runs wrk --latency; returns {'rps', 'requests', 'p50_ms', 'p90_ms', 'p99_ms', 'avg_ms',
    'non2xx', 'errors', 'raw'}."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", f"--timeout={timeout}",
            "--latency"]
    if script:
        argv += ["-s", script]
    argv.append(url)
    if extra:
        argv += ["--", *extra]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    r = {"raw": out, "non2xx": 0, "errors": 0}
    r["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    r["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    r["avg_ms"] = _ms(re.search(r"Latency\s+(\S+)", out).group(1))
    for p in ("50", "90", "99"):
        r[f"p{p}_ms"] = _ms(re.search(rf"\s{p}%\s+(\S+)", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] = sum(int(x) for x in m.groups())
    return r


def require_wrk():
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: run scripts/install-bench-deps (make bench does)")


def pipeline_config(tmp):
    """kiln.yml and its files for a server with connection cruddur (a local git repo made in
    tmp, with the webhook secret from $BENCH_SECRET), project noop (no-op buildspec) and
    pipeline pl (Source cruddur/prod -> Build noop): (config, files)."""
    repo = make_repo(os.path.join(tmp, "repo"))
    config = {
        "connections": {"cruddur": {"url": repo, "arn": ARN,
                                    "webhook_secret": {"env": "BENCH_SECRET"}}},
        "projects": {"noop": {"buildspec": "noop.yml"}},
        "pipelines": {"pl": "pl.json"},
    }
    files = {"noop.yml": NOOP_BUILDSPEC, "pl.json": json.dumps(source_build_pipeline("pl", "noop"))}
    return config, files


def run_execution(server, conn, pipeline="pl", timeout=60):
    """Starts an execution of `pipeline` and waits for it to end: its JSON."""
    status, body = server.request(conn, "POST", f"/api/v1/pipelines/{pipeline}/executions", body={})
    if status not in (200, 201, 202):
        raise RuntimeError(f"POST /api/v1/pipelines/{pipeline}/executions: {status} {body[:300]!r}")
    eid = json.loads(body)["pipelineExecutionId"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        e = server.get_json(f"/api/v1/executions/{eid}", conn)
        if e.get("status") not in ("Queued", "InProgress", "Stopping", None):
            return e
        time.sleep(0.05)
    raise RuntimeError(f"execution {eid} did not end within {timeout} s")


def print_machine(name):
    """One line on what the figures ran on: cores and the load other work put on them."""
    one, five, _ = os.getloadavg()
    print(f"{name}: machine: {os.cpu_count()} cores, load average {one:.1f} (1 min) "
          f"{five:.1f} (5 min) before the run")
