#!/usr/bin/env python3
"""A no-op pipeline (Source from a local repo with one commit, Build running `true`) end to
end through `kiln pipeline run`, against the same by hand in one script (`git clone --depth 1
file://...` + `sh -c true`). Goal: ratio at most 1.5 with the mirror warm. Also reports the
engine's own overhead per execution: the execution's duration minus its actions' durations."""
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402

PIPELINE = {"pipeline": {"name": "noop", "stages": [
    {"name": "Source", "actions": [{
        "name": "Source",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "Git", "version": "1"},
        "configuration": {"Url": "REPO", "BranchName": "main"},
        "outputArtifacts": [{"name": "SourceArtifact"}]}]},
    {"name": "Build", "actions": [{
        "name": "Build",
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                         "version": "1"},
        "configuration": {"ProjectName": "noop"},
        "inputArtifacts": [{"name": "SourceArtifact"}]}]}]}}


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
                   cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def engine_overhead_ms(kiln, state, pipeline_file):
    """The execution's duration, its actions' durations (one action per stage here) and the
    Source action's."""
    out = subprocess.run([kiln, "--json", "--state-dir", state, "pipeline", "run", pipeline_file],
                         capture_output=True, text=True, check=True).stdout
    e = json.loads(out)
    total = (parse_time(e["lastUpdateTime"]) - parse_time(e["startTime"])) * 1000
    actions = sum(a["latestExecution"]["durationMillis"] for s in e["stageStates"]
                  for a in s["actionStates"])
    source = e["stageStates"][0]["actionStates"][0]["latestExecution"]["durationMillis"]
    return total, actions, source


def fetch_and_export_by_hand_ms(repo, tmp, runs=7):
    """What the Source action does, by hand: fetch into a warm mirror, then export the commit
    with git archive."""
    mirror = os.path.join(tmp, "hand-mirror.git")
    subprocess.run(["git", "clone", "-q", "--mirror", f"file://{repo}", mirror], check=True)
    out = os.path.join(tmp, "hand-out")
    script = (f"git --git-dir {mirror} fetch --prune --quiet origin && rm -rf {out} && "
              f"mkdir {out} && git --git-dir {mirror} archive --format=tar main | tar -x -C {out}")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["sh", "-c", script], check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(kiln):
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        repo = os.path.join(tmp, "repo")
        os.makedirs(repo)
        git("init", "-q", "-b", "main", cwd=repo)
        with open(os.path.join(repo, "buildspec.yml"), "w") as f:
            f.write("version: 0.2\nphases:\n  build:\n    commands:\n      - true\n")
        git("add", ".", cwd=repo)
        git("commit", "-qm", "one commit", cwd=repo)
        spec = json.loads(json.dumps(PIPELINE).replace("REPO", repo))
        pipeline_file = os.path.join(tmp, "pipeline.json")
        with open(pipeline_file, "w") as f:
            json.dump(spec, f)
        state = os.path.join(tmp, "state")
        kiln_argv = [kiln, "--state-dir", state, "pipeline", "run", pipeline_file]
        clone = os.path.join(tmp, "clone")
        by_hand = ["sh", "-c", f"rm -rf {clone} && git clone -q --depth 1 file://{repo} {clone} "
                   f"&& cd {clone} && sh -c true"]
        k, h, ratio = benchlib.paired(kiln_argv, by_hand, runs=7)  # warm-up warms the mirror
        assert k["exit_codes"] == [0], k
        print(f"pipeline-noop: kiln pipeline run median {k['median_s']*1000:.1f} ms  "
              f"git clone + sh median {h['median_s']*1000:.1f} ms  ratio {ratio:.2f} "
              f"(goal <= 1.5)")
        runs = [engine_overhead_ms(kiln, state, pipeline_file) for _ in range(7)]
        total = statistics.median(t for t, _, _ in runs)
        overhead = statistics.median(t - a for t, a, _ in runs)
        print(f"pipeline-noop: execution {total:.1f} ms inside kiln, of which the engine's own "
              f"overhead (not in any action) {overhead:.1f} ms median (goal <= 5 ms)")
        source = statistics.median(s for _, _, s in runs)
        hand = fetch_and_export_by_hand_ms(repo, tmp)
        print(f"pipeline-noop: Source action {source:.1f} ms  git fetch into a mirror + archive "
              f"export by hand {hand:.1f} ms  ratio {source / hand:.2f} (goal <= 2)")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
