"""`castle broker` as a command: flags, configuration errors, signals, restart.

Bad flags, a missing file, an unknown or malformed property exit 2 with a
message naming the problem; a stock Kafka server.properties starts with a
warning per ignored property; SIGTERM and SIGINT flush and exit 0; a
restart on the same directory serves everything written before (produced
with confluent-kafka, read back with kcat); a relative log.dirs is taken
from the working directory.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from confluent_kafka import Producer

import castle_broker
from castle_broker import Broker
from messages import check_consumed, make_messages

RUN_TIMEOUT_S = 30


class CliTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="castle-cli-")

    def tearDown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def castle(self, *args, cwd=None):
        return subprocess.run([castle_broker.CASTLE, "broker", *args], capture_output=True,
                              text=True, timeout=RUN_TIMEOUT_S, cwd=cwd or self.directory,
                              stdin=subprocess.DEVNULL)

    def assert_usage_error(self, r, *phrases):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "", "nothing may listen")
        for phrase in phrases:
            self.assertIn(phrase, r.stderr)

    def test_bad_flags(self):
        self.assert_usage_error(self.castle(), "--config")
        self.assert_usage_error(self.castle("--bogus", "x"), "--bogus")
        self.assert_usage_error(self.castle("--config"), "--config")
        path = self.write("ok.properties", "listeners=PLAINTEXT://127.0.0.1:0\n")
        self.assert_usage_error(self.castle("--config", path, "stray"), "stray")
        self.assert_usage_error(self.castle("--config", path, "--override", "no-equals-sign"),
                                "NAME=VALUE")

    def test_missing_config_file(self):
        self.assert_usage_error(self.castle("--config", "/nonexistent/server.properties"),
                                "/nonexistent/server.properties")

    def test_unknown_property(self):
        path = self.write("s.properties", "listeners=PLAINTEXT://127.0.0.1:0\nnum.partitons=3\n")
        self.assert_usage_error(self.castle("--config", path), "num.partitons", "unknown")
        ok = self.write("ok.properties", "listeners=PLAINTEXT://127.0.0.1:0\n")
        self.assert_usage_error(self.castle("--config", ok, "--override", "log.segmnt.bytes=9"),
                                "log.segmnt.bytes")

    def test_malformed_property(self):
        path = self.write("s.properties", "# comment\nlisteners=PLAINTEXT://127.0.0.1:0\njunk\n")
        self.assert_usage_error(self.castle("--config", path), "line 3")
        for line, name in (("num.partitions=many", "num.partitions"),
                           ("listeners=SSL://127.0.0.1:9093", "listeners"),
                           ("log.dirs=/a,/b", "log.dirs"),
                           ("auto.create.topics.enable=perhaps", "auto.create.topics.enable")):
            with self.subTest(line=line):
                path = self.write("s.properties", line + "\n")
                self.assert_usage_error(self.castle("--config", path), name)

    def test_stock_server_properties_warn_about_ignored_names(self):
        b = Broker({"num.network.threads": "3", "zookeeper.connect": "localhost:2181",
                    "offsets.topic.replication.factor": "1"})
        try:
            self.assertEqual(b.stop(), 0)
            err = b.stderr()
            for name in ("num.network.threads", "zookeeper.connect",
                         "offsets.topic.replication.factor"):
                self.assertIn(f"ignoring {name}", err)
        finally:
            b.remove()

    def test_sigterm_and_sigint_exit_zero(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig):
                b = Broker()
                try:
                    self.assertEqual(b.stop(sig), 0, b.stderr())
                finally:
                    b.remove()

    def test_override_wins_over_the_file(self):
        b = Broker({"num.partitions": "1"}, args=("--override", "num.partitions=3"))
        try:
            p = Producer({"bootstrap.servers": b.address})
            p.produce("auto", b"x")
            self.assertEqual(p.flush(RUN_TIMEOUT_S), 0)
            self.assertEqual(len(p.list_topics("auto", timeout=10).topics["auto"].partitions), 3)
            self.assertEqual(b.stop(), 0)
        finally:
            b.remove()

    def test_restart_serves_what_was_written(self):
        sent = make_messages("restart", 2000)
        b = Broker({"num.partitions": "3"}, directory=self.directory)
        try:
            p = Producer({"bootstrap.servers": b.address, "acks": "all"})
            for k, v in sent:
                p.produce("restart", key=k, value=v)
            self.assertEqual(p.flush(RUN_TIMEOUT_S), 0)
            self.assertEqual(b.stop(), 0, b.stderr())
            b = Broker({"num.partitions": "3"}, directory=self.directory)
            r = subprocess.run(["kcat", "-b", b.address, "-C", "-t", "restart", "-o", "beginning",
                                "-e", "-f", "%p %o %k %s\\n"], capture_output=True,
                               timeout=RUN_TIMEOUT_S)
            self.assertEqual(r.returncode, 0, r.stderr)
            consumed = [(int(p), int(o), k, v) for p, o, k, v in
                        (line.split(b" ") for line in r.stdout.splitlines())]
            check_consumed(self, sent, consumed)
            self.assertEqual(b.stop(), 0, b.stderr())
        finally:
            b.remove()

    def test_restart_after_sigkill_serves_what_the_os_holds(self):
        """Nothing is synced per write (Kafka's default), but a killed process
        leaves its writes in the page cache: recovery must validate the tail
        past the recovery point and keep all of it."""
        sent = make_messages("killed", 2000)
        b = Broker({"num.partitions": "2"}, directory=self.directory)
        try:
            p = Producer({"bootstrap.servers": b.address, "acks": "all"})
            for k, v in sent:
                p.produce("killed", key=k, value=v)
            self.assertEqual(p.flush(RUN_TIMEOUT_S), 0)
            del p
            b.kill()
            b = Broker({"num.partitions": "2"}, directory=self.directory)
            r = subprocess.run(["kcat", "-b", b.address, "-C", "-t", "killed", "-o", "beginning",
                                "-e", "-f", "%p %o %k %s\\n"], capture_output=True,
                               timeout=RUN_TIMEOUT_S)
            self.assertEqual(r.returncode, 0, r.stderr)
            consumed = [(int(p), int(o), k, v) for p, o, k, v in
                        (line.split(b" ") for line in r.stdout.splitlines())]
            check_consumed(self, sent, consumed)
            self.assertEqual(b.stop(), 0, b.stderr())
        finally:
            b.remove()

    def test_relative_log_dir_is_under_the_working_directory(self):
        path = self.write("s.properties",
                          "listeners=PLAINTEXT://127.0.0.1:0\nlog.dirs=data/kafka-logs\n")
        proc = subprocess.Popen([castle_broker.CASTLE, "broker", "--config", path],
                                cwd=self.directory, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            line = proc.stdout.readline().decode()
            self.assertTrue(line.startswith("listening on "), line)
            address = line.split()[-1]
            p = Producer({"bootstrap.servers": address})
            p.produce("reltopic", b"x")
            self.assertEqual(p.flush(RUN_TIMEOUT_S), 0)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(RUN_TIMEOUT_S), 0)
            logs = os.path.join(self.directory, "data", "kafka-logs")
            self.assertTrue(os.path.isdir(logs))
            self.assertTrue(any(name.startswith("reltopic") for name in os.listdir(logs)),
                            os.listdir(logs))
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()


if __name__ == "__main__":
    unittest.main()
