"""A real OpenSearch node on this machine: fetched once by `make setup`, started and stopped by its users.

    python -m tools.local.opensearch_node fetch     # what `make setup` runs (idempotent, quiet when present)
    python -m tools.local.opensearch_node run       # a node on a free port until Ctrl-C, for trying searches

The node is the distribution OpenSearch publishes for integration tests
(`org.opensearch.distribution.integ-test-zip:opensearch`, the 2.19 line: the last that runs
on Java 17), fetched with the ordinary Maven client against the machine's configured
repositories (`-C`: repository checksums enforced) and checked against the SHA-256 pinned
below before it is unpacked under `build/opensearch/`. It is the server and its HTTP
transport module, nothing else: no security plugin, no Index State Management; the search
tier's setup and saved searches use only the core APIs (index templates, bulk, search with
field collapsing, index deletion), which OpenSearch Serverless and a managed domain serve too.

`LocalNode` starts one node in a fresh temporary directory (data, logs, config copy), on a
free HTTP port chosen by the node itself (`http.port: 0`, read back from `node.portsfile`),
with a small heap because the machine is shared, and stops it (and removes the directory)
on exit. OpenSearch refuses to run as root; as root, the node runs as `nobody`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from streaming.fetch_connector import file_digest, maven_command

VERSION = "2.19.6"
COORDINATES = f"org.opensearch.distribution.integ-test-zip:opensearch:{VERSION}:zip"
# SHA-256 of opensearch-2.19.6.zip as Maven fetched it (repository SHA-1 checked by `-C`) when this was pinned.
SHA256 = "71d6d8b1c637f3faecda0752b184b1cc526fc6eaad59ec1408c6327bb00b9293"

REPO = Path(__file__).resolve().parents[2]
INSTALL_ROOT = REPO / "build" / "opensearch"
HOME = INSTALL_ROOT / f"opensearch-{VERSION}"
MARKER = INSTALL_ROOT / f"opensearch-{VERSION}.sha256"  # written last: its presence means a verified install
FETCH_COMMAND = "python -m tools.local.opensearch_node fetch"

# The node shares two cores with everything else: a small heap and the serial collector.
HEAP = ("-Xms256m", "-Xmx512m")
JVM_OPTIONS = (
    *HEAP,
    "-XX:+UseSerialGC",
    "-Djava.io.tmpdir=${OPENSEARCH_TMPDIR}",
    "18-:-Djava.security.manager=allow",
    "-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory",
)
START_TIMEOUT_SECONDS = 90
RUN_AS = "nobody"
_MAVEN_TIMEOUT_SECONDS = 600


class NodeError(RuntimeError):
    """The node is not installed, could not be fetched, or did not start."""


# --- fetch -------------------------------------------------------------------------------------------------


def installed() -> bool:
    return MARKER.is_file() and MARKER.read_text().strip() == SHA256 and (HOME / "bin" / "opensearch").is_file()


def fetch(expected_sha256: str = SHA256) -> str:
    """Fetch the distribution with Maven, check its SHA-256, unpack it under `build/opensearch/`."""
    if shutil.which("mvn") is None:
        raise NodeError(f"`mvn` (Apache Maven) is not on PATH; install it, then run `{FETCH_COMMAND}`")
    INSTALL_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=INSTALL_ROOT) as workdir:
        command = maven_command(Path(workdir), COORDINATES)
        completed = subprocess.run(command, capture_output=True, text=True, timeout=_MAVEN_TIMEOUT_SECONDS, check=False)
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr).strip().splitlines()
            raise NodeError(f"`{' '.join(command)}` failed: " + " / ".join(output[-5:]))
        archives = sorted(Path(workdir).glob("*.zip"))
        if len(archives) != 1:
            raise NodeError(f"Maven copied {[p.name for p in archives]} for {COORDINATES}, expected one zip")
        actual = file_digest(archives[0], "sha256")
        if actual != expected_sha256:
            raise NodeError(f"SHA-256 of {archives[0].name} is {actual}, pinned {expected_sha256}; not unpacked")
        MARKER.unlink(missing_ok=True)
        shutil.rmtree(HOME, ignore_errors=True)
        _unpack(archives[0], INSTALL_ROOT)
    MARKER.write_text(expected_sha256 + "\n")
    return actual


def _unpack(archive: Path, destination: Path) -> None:
    # zipfile drops the permission bits; the launch scripts must stay executable.
    with zipfile.ZipFile(archive) as zipped:
        for entry in zipped.infolist():
            target = destination / entry.filename
            if not target.resolve().is_relative_to(destination.resolve()):
                raise NodeError(f"{archive.name} holds an entry outside its folder: {entry.filename}")
            zipped.extract(entry, destination)
            mode = entry.external_attr >> 16
            if mode and not entry.is_dir():
                target.chmod(mode & 0o777)


def require_installed() -> Path:
    if not installed():
        raise NodeError(f"no OpenSearch {VERSION} node under {INSTALL_ROOT}; run `make setup` (or `{FETCH_COMMAND}`)")
    return HOME


# --- run ---------------------------------------------------------------------------------------------------


def java_home() -> str:
    """A Java 17 runtime: $JAVA_HOME when set, else the one `java` on PATH belongs to."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        raise NodeError("no Java runtime: install Java 17 (the OpenSearch 2.19 node needs it) or set JAVA_HOME")
    return str(Path(java).resolve().parent.parent)


class LocalNode:
    """One single-node cluster in a temporary directory; a context manager that stops and removes it."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or require_installed()
        self.workdir = Path(tempfile.mkdtemp(prefix="uba-opensearch-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> LocalNode:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _layout(self) -> dict[str, Path]:
        paths = {name: self.workdir / name for name in ("config", "data", "logs", "tmp")}
        shutil.copytree(self.home / "config", paths["config"])
        (paths["config"] / "jvm.options").write_text("\n".join(JVM_OPTIONS) + "\n")
        for name in ("data", "logs", "tmp"):
            paths[name].mkdir()
        if os.geteuid() == 0:
            for path in [self.workdir, *self.workdir.rglob("*")]:
                shutil.chown(path, RUN_AS, None)
        return paths

    def command(self, paths: dict[str, Path]) -> list[str]:
        settings = {
            "path.data": paths["data"],
            "path.logs": paths["logs"],
            "network.host": "127.0.0.1",
            "http.port": 0,  # the node picks a free port and writes it to logs/http.ports
            "transport.port": 0,
            "node.portsfile": "true",
            "discovery.type": "single-node",
            "cluster.name": "uba-local",
            # Disk watermarks would turn a nearly full build disk into read-only indices mid-test.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.auto_create_index": "true",
        }
        command = [str(self.home / "bin" / "opensearch"), *(f"-E{key}={value}" for key, value in settings.items())]
        if os.geteuid() == 0:  # "can not run opensearch as root"
            command = ["setpriv", f"--reuid={RUN_AS}", "--regid=nogroup", "--clear-groups", *command]
        return command

    def start(self) -> str:
        paths = self._layout()
        environment = {
            **os.environ,
            "JAVA_HOME": java_home(),
            "OPENSEARCH_PATH_CONF": str(paths["config"]),
            "OPENSEARCH_TMPDIR": str(paths["tmp"]),
            "OPENSEARCH_JAVA_OPTS": " ".join(HEAP),
        }
        log = (self.workdir / "node.out").open("wb")
        self.process = subprocess.Popen(
            self.command(paths), cwd=self.workdir, env=environment, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.url = self._wait_for_port(paths["logs"] / "http.ports")
        self._wait_until_ready()
        return self.url

    def _wait_for_port(self, ports_file: Path) -> str:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if ports_file.is_file() and ports_file.read_text().strip():
                address = ports_file.read_text().split()[0]
                return f"http://{address}"
            self._check_alive()
            time.sleep(0.2)
        self.stop()
        raise NodeError(f"the OpenSearch node did not open its HTTP port within {START_TIMEOUT_SECONDS} s")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        health = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=5s"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health, timeout=10) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                self._check_alive()
                time.sleep(0.2)
        self.stop()
        raise NodeError(f"the OpenSearch node at {self.url} did not become ready within {START_TIMEOUT_SECONDS} s")

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = self.output_tail()
            self.stop()
            raise NodeError(f"the OpenSearch node exited with {self.process.returncode}: {tail}")

    def output_tail(self, lines: int = 8) -> str:
        out = self.workdir / "node.out"
        return " / ".join(out.read_text(errors="replace").splitlines()[-lines:]) if out.is_file() else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the launcher script and the JVM it started
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local.opensearch_node", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["fetch", "run"])
    parser.add_argument("--force", action="store_true", help="fetch again even when a verified copy is installed")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "fetch":
            if installed() and not arguments.force:
                return 0
            print(f"fetching OpenSearch {VERSION} with Maven ({COORDINATES}) ...", flush=True)
            print(f"{HOME}: verified (SHA-256 {fetch()})")
            return 0
        with LocalNode() as node:
            print(f"OpenSearch {VERSION} at {node.url} (Ctrl-C stops it)", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    except (NodeError, OSError, subprocess.SubprocessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
