"""Fleet mode's real parts for the e2e tests: Debian's redis-server and the llm-store
adapter, each on a free loopback port."""

import shutil
import subprocess
import time

from harness import LOGS, ROOT, free_port, http

STORE = ROOT / "target" / "release" / "llm-store"


def _wait(cond, what, proc, log, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n" + log.read_text()[-2000:])
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready:\n" + log.read_text()[-2000:])


class Redis:
    """redis-server on loopback, no persistence (a test restarts it empty on purpose)."""

    def __init__(self):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: ./build.sh test installs it (apt-get install redis-server)"
        self.binary = binary
        self.port = free_port()
        self.start()

    def start(self):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / "redis.log"
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        _wait(lambda: "Ready to accept connections" in self.log.read_text(), "redis", self.proc, self.log)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Store:
    """The llm-store adapter in front of `redis`."""

    def __init__(self, redis):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / "llm-store.log"
        self.proc = subprocess.Popen(
            [str(STORE), "--listen", "127.0.0.1:0", "--redis", f"redis://127.0.0.1:{redis.port}/"],
            stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.port = int(line.rsplit(":", 1)[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def spend(self, keys):
        status, _, body = http("POST", self.base + "/v1/spend", {"keys": keys})
        assert status == 200, body
        import json
        return json.loads(body)["spend"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
