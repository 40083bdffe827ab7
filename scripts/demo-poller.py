#!/usr/bin/env python3
"""The demo's client: GET /api/health-check every 20 ms over keep-alive, counting answers.

Usage: demo-poller.py PORT OUT_FILE. Rewrites OUT_FILE with the counts after every request,
so the demo can show them at any moment; a failed request is any non-200 answer or error.
"""
import http.client
import json
import sys
import time


def main(port, out):
    ok = failed = 0
    versions = {}
    conn = None
    while True:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health-check")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200:
                ok += 1
                ver = json.loads(body).get("ver")
                versions[ver] = versions.get(ver, 0) + 1
            else:
                failed += 1
        except (OSError, http.client.HTTPException, ValueError):
            failed += 1
            conn = None
        with open(out, "w") as f:
            seen = ", ".join(f"ver {v}: {n}" for v, n in sorted(versions.items(), key=str))
            f.write(f"client: {ok + failed} requests, {failed} failed ({seen})\n")
        time.sleep(0.02)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
