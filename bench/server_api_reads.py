#!/usr/bin/env python3
"""Read throughput of `kiln serve`: `wrk -t2 -c16 -d10s` against GET
/api/v1/pipelines/pl/state (GetPipelineState's shape), for a pipeline pl (Source from a local
git repo, branch prod -> Build running `true`) with one finished execution, started first
with POST /api/v1/pipelines/pl/executions and waited for with GET /api/v1/executions/{id}.
Goal: >= 50,000 requests/s (a peer C++ CI server: 35,000/s). Baseline, same run and same wrk
options: GET /healthz. Note wrk shares the machine's cores with the server."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import serverlib as sl  # noqa: E402

THREADS, CONNECTIONS, DURATION = 2, 16, "10s"


def main(kiln):
    sl.print_machine("server-api-reads")
    sl.require_wrk()
    with tempfile.TemporaryDirectory(prefix="kiln-bench-", dir="/tmp") as tmp:
        config, files = sl.pipeline_config(tmp)
        with sl.Server(kiln, config, files) as server:
            conn = server.connect()
            execution = sl.run_execution(server, conn)
            state = server.get_json("/api/v1/pipelines/pl/state", conn)
            conn.close()
            cpu0 = sl.cpu_seconds(server.pid)
            reads = sl.wrk(server.url("/api/v1/pipelines/pl/state"), THREADS, CONNECTIONS,
                           DURATION)
            cpu_reads = sl.cpu_seconds(server.pid) - cpu0
            base = sl.wrk(server.url("/healthz"), THREADS, CONNECTIONS, DURATION)
            cpu_base = sl.cpu_seconds(server.pid) - cpu0 - cpu_reads
            rss = server.hwm_kib()
    size = len(json.dumps(state))
    print(f"server-api-reads: pipeline pl, one execution {execution.get('status')}; state "
          f"document ~{size} bytes; wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}")
    print(f"server-api-reads: /api/v1/pipelines/pl/state {reads['rps']:.0f} requests/s "
          f"(goal >= 50,000; peer 35,000)")
    print(f"server-api-reads: /api/v1/pipelines/pl/state latency avg {reads['avg_ms']:.2f} ms  "
          f"p50 {reads['p50_ms']:.2f} ms  p90 {reads['p90_ms']:.2f} ms  p99 {reads['p99_ms']:.2f} ms"
          f"  (non-2xx {reads['non2xx']}, socket errors {reads['errors']})")
    print(f"server-api-reads: baseline /healthz {base['rps']:.0f} requests/s  p50 "
          f"{base['p50_ms']:.2f} ms  p99 {base['p99_ms']:.2f} ms")
    print(f"server-api-reads: ratio state/healthz throughput {reads['rps'] / base['rps']:.2f}")
    print(f"server-api-reads: server CPU {cpu_reads:.1f} s during the state run, {cpu_base:.1f} s "
          f"during the healthz run (of {DURATION} each); peak RSS {rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
