"""A private Docker engine for the container benchmarks: scripts/test-engine in a temp dir
(no bridge, no way out), kiln/busybox:1 imported with `kiln image bootstrap --busybox`, and
the engine stopped at the end whatever happens."""
import contextlib
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_ENGINE = os.path.join(HERE, "..", "scripts", "test-engine")
IMAGE = "kiln/busybox:1"


@contextlib.contextmanager
def engine(kiln, tag):
    """Yields an environment (os.environ + DOCKER_HOST) for a fresh engine holding IMAGE, or
    None after printing one skip line when no engine can start here."""
    tmp = tempfile.mkdtemp(prefix="kiln-bench-engine-")
    try:
        subprocess.run([TEST_ENGINE, "start", tmp, "--if-possible"], check=True,
                       stdout=subprocess.DEVNULL)
        unavailable = os.path.join(tmp, "unavailable")
        if os.path.exists(unavailable):
            with open(unavailable) as f:
                print(f"{tag}: skipped: no Docker engine ({f.read().strip()})")
            yield None
            return
        with open(os.path.join(tmp, "docker-host")) as f:
            env = dict(os.environ, DOCKER_HOST=f.read().strip())
        boot = subprocess.run([kiln, "image", "bootstrap", "--busybox"], env=env,
                              capture_output=True, text=True)
        if boot.returncode != 0:
            print(f"{tag}: skipped: kiln image bootstrap --busybox failed: {boot.stderr.strip()}")
            yield None
            return
        yield env
    finally:
        subprocess.run([TEST_ENGINE, "stop", tmp], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


def docker_cli():
    """The docker CLI for the raw baselines, or None."""
    return shutil.which("docker") or (
        "/usr/local/bin/docker" if os.access("/usr/local/bin/docker", os.X_OK) else None)


def write_buildspec(src, commands, extra=""):
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "buildspec.yml"), "w") as f:
        f.write("version: 0.2\n" + extra + "phases:\n  build:\n    commands:\n")
        for c in commands:
            f.write(f"      - {c}\n")
