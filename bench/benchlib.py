"""Whole-process timing for Kiln's benchmarks: medians of several runs, peak RSS, ratios."""
import os
import statistics
import subprocess
import time


def run_once(argv, cwd=None, env=None, stdout=subprocess.DEVNULL):
    """Runs argv; returns (wall seconds, peak RSS in MiB of the process tree, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, proc.returncode


def measure(argv, runs=5, warmup=1, **kw):
    """Median wall time and median peak RSS over runs (after warmup runs)."""
    for _ in range(warmup):
        run_once(argv, **kw)
    walls, rss, codes = [], [], set()
    for _ in range(runs):
        w, r, c = run_once(argv, **kw)
        walls.append(w)
        rss.append(r)
        codes.add(c)
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "rss_mib": statistics.median(rss), "exit_codes": sorted(codes)}


def paired(a_argv, b_argv, runs=5, warmup=1, **kw):
    """Runs A and B in turn (A B A B ...); returns both summaries and the median of A/B."""
    for _ in range(warmup):
        run_once(a_argv, **kw)
        run_once(b_argv, **kw)
    a, b, ratios = [], [], []
    for _ in range(runs):
        wa = run_once(a_argv, **kw)
        wb = run_once(b_argv, **kw)
        a.append(wa)
        b.append(wb)
        ratios.append(wa[0] / wb[0])
    summary = lambda xs: {"median_s": statistics.median(x[0] for x in xs),
                          "rss_mib": statistics.median(x[1] for x in xs),
                          "exit_codes": sorted({x[2] for x in xs})}
    return summary(a), summary(b), statistics.median(ratios)
