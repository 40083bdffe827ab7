#!/usr/bin/env python3
"""Webhook intake: signed GitHub push deliveries to POST /webhooks/github/cruddur, driven by
wrk (2 threads, N keep-alive connections, 5 s) with a Lua script replaying a pool of requests
signed beforehand by this script (HMAC-SHA256 over each body): every delivery has a unique
X-GitHub-Delivery and a unique `after` commit. The ref (refs/heads/bench-unwatched) is watched
by no pipeline (pipeline pl watches prod), so each delivery is matched, stored and answered
200 (no_match) once committed to SQLite, and nothing runs: this measures intake.
Goal: >= 2000 deliveries/s with p99 < 20 ms. Baseline, same run and same N: wrk against
GET /healthz. The counts of /metrics kiln_webhook_deliveries_total are checked afterwards
(all no_match, no duplicate: the pool was not exhausted)."""
import hashlib
import hmac
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

DURATION = "5s"
THREADS = 2
POOL = 120_000  # enough for 24,000 deliveries/s over 5 s

LUA = r"""
-- Replays pre-signed webhook requests; thread k of n sends lines k, k+n, k+2n, ... of the file.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local reqs, idx, n = {}, 0, 0
function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then
      local id, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      n = n + 1
      reqs[n] = wrk.format("POST", "/webhooks/github/cruddur", {
        ["Content-Type"] = "application/json",
        ["X-GitHub-Event"] = "push",
        ["X-GitHub-Delivery"] = id,
        ["X-Hub-Signature-256"] = sig,
      }, body)
    end
    i = i + 1
  end
end
function request()
  idx = idx + 1
  if idx > n then idx = 1 end  -- exhausted: repeats (seen as duplicates in /metrics)
  return reqs[idx]
end
"""


def write_pool(path):
    """POOL lines `delivery id TAB signature TAB body`; each run has a fresh server (state),
    so the runs can share the pool."""
    # The body of serverlib.push_body, with the varying parts as fields (fast to fill in).
    template = sl.push_body("refs/heads/bench-unwatched", "@AFTER@", 0).decode()
    template = template.replace("{", "{{").replace("}", "}}").replace("@AFTER@", "{0}")
    template = template.replace("bench 0", "bench {1}")
    key = sl.SECRET.encode()
    lines = []
    for i in range(POOL):
        body = template.format(f"be{i:038x}", i).encode()  # never all zeros (a deletion)
        sig = hmac.new(key, body, hashlib.sha256).hexdigest()
        lines.append(f"bench-{i}\tsha256={sig}\t{body.decode()}\n")
    with open(path, "w") as f:
        f.writelines(lines)


def main(kiln):
    sl.print_machine("server-webhooks")
    sl.require_wrk()
    with tempfile.TemporaryDirectory(prefix="kiln-bench-", dir="/tmp") as tmp:
        config, files = sl.pipeline_config(tmp)
        lua = os.path.join(tmp, "webhooks.lua")
        with open(lua, "w") as f:
            f.write(LUA)
        print(f"server-webhooks: wrk -t{THREADS} -d{DURATION}, signed push deliveries from a "
              "pool precomputed by the script (Lua only replays them); baseline GET /healthz")
        pool = os.path.join(tmp, "pool.tsv")
        write_pool(pool)
        for conns in (16, 64):
            with sl.Server(kiln, config, files) as server:
                base = sl.wrk(server.url("/healthz"), THREADS, conns, DURATION)
                hook = sl.wrk(server.url("/webhooks/github/cruddur"), THREADS, conns, DURATION,
                              script=lua, extra=[pool, str(THREADS)])
                m = server.metrics()
                rss = server.hwm_kib()
            outcomes = {k.split('outcome="')[1].rstrip('"}'): int(v) for k, v in m.items()
                        if k.startswith("kiln_webhook_deliveries_total")}
            tag = f"[{conns} connections]"
            print(f"server-webhooks: {tag} {hook['rps']:.0f} deliveries/s (goal >= 2000)  "
                  f"{hook['requests']} in {DURATION}")
            print(f"server-webhooks: {tag} latency p50 {hook['p50_ms']:.2f} ms  p90 "
                  f"{hook['p90_ms']:.2f} ms  p99 {hook['p99_ms']:.2f} ms (goal p99 < 20)")
            print(f"server-webhooks: {tag} baseline /healthz {base['rps']:.0f} req/s  p50 "
                  f"{base['p50_ms']:.2f} ms  p99 {base['p99_ms']:.2f} ms; ratio "
                  f"healthz/deliveries {base['rps'] / hook['rps']:.1f}")
            print(f"server-webhooks: {tag} outcomes {outcomes}; non-2xx {hook['non2xx']}, "
                  f"socket errors {hook['errors']}; server peak RSS {rss / 1024:.1f} MiB")
            if hook["requests"] >= POOL:
                print(f"server-webhooks: {tag} WARNING: the pool of {POOL} was exhausted: "
                      "later deliveries were duplicates")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
