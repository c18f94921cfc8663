"""kcat (librdkafka 2.0) against castle broker.

Each test produces thousands of keyed messages with `kcat -P` to a topic the
broker auto-creates with several partitions (num.partitions=4), reads every
partition back with `kcat -C -o beginning -e` (no consumer group) and checks
per-partition order, no duplicates and nothing missing (acks=0 may lose but
not duplicate or reorder). Then the same with idempotence and with each
compression codec, and ListOffsets through `kcat -Q`.
"""

import re
import shutil
import unittest

from castle_broker import BrokerTestCase
from messages import check_consumed, make_messages

COUNT = 5000
PARTITIONS = 4


class KcatTest(BrokerTestCase):
    broker_props = {"num.partitions": str(PARTITIONS)}

    def setUp(self):
        self.assertIsNotNone(shutil.which("kcat"), "kcat is not installed (scripts/install-deps.sh)")
        super().setUp()

    def kcat(self, *args, input_bytes=None, timeout_s=60):
        return self.run_tool(["kcat", "-b", self.bootstrap, "-m", "15", *args],
                             input_bytes=input_bytes, timeout_s=timeout_s)

    def produce(self, topic, messages, *settings):
        lines = b"".join(k + b":" + v + b"\n" for k, v in messages)
        extra = []
        for s in settings:
            extra += ["-X", s]
        self.kcat("-P", "-t", topic, "-K", ":", *extra, input_bytes=lines)

    def consume(self, topic):
        r = self.kcat("-C", "-t", topic, "-o", "beginning", "-e", "-f", "%p %o %k %s\\n")
        out = []
        for line in r.stdout.splitlines():
            p, o, k, v = line.split(b" ")
            out.append((int(p), int(o), k, v))
        return out

    def partitions_of(self, topic):
        r = self.kcat("-L", "-t", topic)
        return len(re.findall(rb"partition \d+, leader", r.stdout))

    def round_trip(self, topic, *settings, allow_loss=False):
        sent = make_messages(topic, COUNT)
        self.produce(topic, sent, *settings)
        self.assertEqual(self.partitions_of(topic), PARTITIONS)
        consumed = self.consume(topic)
        check_consumed(self, sent, consumed, allow_loss=allow_loss)
        self.assertGreater(len({p for p, _, _, _ in consumed}), 1, "all keys in one partition")
        return consumed

    def test_acks_all(self):
        self.round_trip("kcat-acks-all", "acks=all")

    def test_acks_1(self):
        self.round_trip("kcat-acks-1", "acks=1")

    def test_acks_0(self):
        self.round_trip("kcat-acks-0", "acks=0", allow_loss=True)

    def test_idempotent_producer(self):
        self.round_trip("kcat-idempotent", "enable.idempotence=true")

    def test_compression_codecs(self):
        for codec in ("gzip", "snappy", "lz4", "zstd"):
            with self.subTest(codec=codec):
                self.round_trip(f"kcat-{codec}", f"compression.codec={codec}", "acks=all",
                                "linger.ms=20")

    def test_list_offsets_earliest_and_latest(self):
        consumed = self.round_trip("kcat-offsets", "acks=all")
        counts = {}
        for p, _, _, _ in consumed:
            counts[p] = counts.get(p, 0) + 1
        # -Q asks ListOffsets for a timestamp: -2 is the earliest offset, -1 the latest.
        for timestamp, expect in ((-2, lambda p: 0), (-1, lambda p: counts.get(p, 0))):
            args = []
            for p in range(PARTITIONS):
                args += ["-t", f"kcat-offsets:{p}:{timestamp}"]
            r = self.kcat("-Q", *args)
            got = {int(p): int(o) for p, o in
                   re.findall(rb"kcat-offsets \[(\d+)\]\s+offset (-?\d+)", r.stdout)}
            self.assertEqual(got, {p: expect(p) for p in range(PARTITIONS)},
                             f"timestamp {timestamp}: {r.stdout!r}")


if __name__ == "__main__":
    unittest.main()
