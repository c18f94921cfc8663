"""Runs `castle broker` as a child process for the interop tests.

Each test starts its own broker: a fresh temporary directory holds its
server.properties and log directory, it listens on 127.0.0.1 port 0, and the
address comes from the `listening on HOST:PORT` line it prints. The broker is
stopped with SIGTERM (and must exit 0) or killed at the end, and the
directory removed. Everything is bounded in time.
"""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

# Set by run.py from its --castle argument.
CASTLE = os.environ.get("CASTLE_BIN", "")

START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30


class Broker:
    """One `castle broker` process with its own directory.

    props: extra server.properties lines as a dict (they win over the
    defaults here); directory: reuse an existing directory (restart tests).
    """

    def __init__(self, props=None, directory=None, args=()):
        assert CASTLE, "CASTLE_BIN is not set (run the tests through run.py)"
        self.owns_directory = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="castle-interop-")
        self.props = {
            "node.id": "1",
            "listeners": "PLAINTEXT://127.0.0.1:0",
            "log.dirs": os.path.join(self.directory, "logs"),
            "num.partitions": "1",
        }
        self.props.update(props or {})
        self.config_path = os.path.join(self.directory, "server.properties")
        with open(self.config_path, "w") as f:
            for name, value in self.props.items():
                f.write(f"{name}={value}\n")
        self.stderr_path = os.path.join(self.directory, "broker.stderr")
        self.proc = None
        self.address = None
        self._start(args)

    def _start(self, args):
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [CASTLE, "broker", "--config", self.config_path, *args],
                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        line = self._read_line(START_TIMEOUT_S)
        prefix = "listening on "
        if not line.startswith(prefix):
            self.kill()
            raise AssertionError(
                f"castle broker did not start (first line {line!r}); stderr:\n{self.stderr()}")
        self.address = line[len(prefix):].strip()

    def _read_line(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        out = b""
        fd = self.proc.stdout.fileno()
        while not out.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 1)
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace")

    def host_port(self):
        host, port = self.address.rsplit(":", 1)
        return host, int(port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Asks the broker to stop; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self.proc.stdout.close()
        self.proc = None
        return code

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None

    def remove(self):
        self.kill()
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


class BrokerTestCase(unittest.TestCase):
    """Starts a broker per test (self.broker, self.bootstrap); at the end,
    checks that it is still alive and stops cleanly with exit code 0."""

    broker_props = {}

    def setUp(self):
        self.broker = Broker(self.broker_props)
        self.bootstrap = self.broker.address

    def tearDown(self):
        try:
            alive = self.broker.alive()
            code = self.broker.stop()
            if not alive:
                self.fail(f"the broker died during the test; stderr:\n{self.broker.stderr()}")
            if code != 0:
                self.fail(f"castle broker exited {code} on SIGTERM; stderr:\n"
                          f"{self.broker.stderr()}")
        finally:
            self.broker.remove()

    def run_tool(self, argv, input_bytes=None, timeout_s=60):
        """Runs a client command, failing the test on a timeout or non-zero exit."""
        try:
            r = subprocess.run(argv, input=input_bytes, capture_output=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as e:
            self.fail(f"{argv[0]} timed out after {timeout_s} s; stderr:\n"
                      f"{(e.stderr or b'').decode(errors='replace')}\n"
                      f"broker stderr:\n{self.broker.stderr()}")
        if r.returncode != 0:
            self.fail(f"{' '.join(argv)} exited {r.returncode}; stderr:\n"
                      f"{r.stderr.decode(errors='replace')}\nbroker stderr:\n{self.broker.stderr()}")
        return r
