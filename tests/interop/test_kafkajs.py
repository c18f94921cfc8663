"""kafkajs 2.2.4 (a Kafka client written from scratch in JavaScript, sharing
no code with librdkafka or kafka-python) against castle broker.

kafkajs creates a topic with several partitions (admin CreateTopics),
produces thousands of keyed messages with acks 0, 1 and all, idempotent and
gzip-compressed (kafkajs/client.js, run with node); confluent-kafka reads
every partition back with assign(), and the checks of messages.py apply:
per-partition order, no duplicates, nothing missing (acks=0 may lose, not
duplicate or reorder). kafkajs also lists offsets (latest and by time) and
deletes the topic.

kafkajs consumers exist only in consumer groups (FindCoordinator, JoinGroup,
...), which castle does not serve yet, so kafkajs does not consume here.

kafkajs comes from the npm registry, pinned by kafkajs/package-lock.json;
scripts/install-deps.sh installs it (npm ci) next to client.js.
"""

import json
import os
import shutil
import time
import unittest

from castle_broker import BrokerTestCase
from messages import check_consumed, make_messages
from test_confluent_kafka import consume_assigned

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "kafkajs", "client.js")
COUNT = 5000
PARTITIONS = 4


class KafkajsTest(BrokerTestCase):
    broker_props = {"auto.create.topics.enable": "false", "num.partitions": "1"}

    def setUp(self):
        self.assertIsNotNone(shutil.which("node"), "node is not installed (scripts/install-deps.sh)")
        self.assertTrue(os.path.isdir(os.path.join(HERE, "kafkajs", "node_modules", "kafkajs")),
                        "kafkajs is not installed (scripts/install-deps.sh)")
        super().setUp()

    def kafkajs(self, *args, timeout_s=120):
        r = self.run_tool(["node", CLIENT, self.bootstrap, *map(str, args)], timeout_s=timeout_s)
        return json.loads(r.stdout)

    def create_topic(self, topic, partitions=PARTITIONS):
        out = self.kafkajs("create", topic, partitions)
        self.assertEqual(out, {"created": True, "partitions": partitions})

    def round_trip(self, topic, acks, idempotent=False, compression="None", allow_loss=False):
        self.create_topic(topic)
        out = self.kafkajs("produce", topic, COUNT, acks, str(idempotent).lower(), compression)
        consumed = consume_assigned(self, self.bootstrap, topic, PARTITIONS)
        check_consumed(self, make_messages(topic, COUNT), consumed, allow_loss=allow_loss)
        self.assertGreater(len({p for p, _, _, _ in consumed}), 1, "all keys in one partition")
        if acks != 0:
            self.check_acks(out["acked"], consumed)
        return consumed

    def check_acks(self, acked, consumed):
        """Every acknowledgement is an error-free base offset, increasing per
        partition, where a consumed record of that partition lies."""
        self.assertEqual([a for a in acked if a["errorCode"] != 0][:3], [])
        at = {(p, o) for p, o, _, _ in consumed}
        last = {}
        for a in acked:
            p, base = a["partition"], int(a["baseOffset"])
            self.assertIn((p, base), at, f"acknowledged offset {base} of partition {p} not read")
            self.assertGreater(base, last.get(p, -1), f"partition {p}: acks out of order")
            last[p] = base

    def test_acks_all(self):
        self.round_trip("kjs-acks-all", -1)

    def test_acks_1(self):
        self.round_trip("kjs-acks-1", 1)

    def test_acks_0(self):
        self.round_trip("kjs-acks-0", 0, allow_loss=True)

    def test_idempotent_gzip_producer(self):
        self.round_trip("kjs-idempotent-gzip", -1, idempotent=True, compression="GZIP")

    def test_list_offsets_latest_and_by_time(self):
        since_ms = int(time.time() * 1000) - 60000
        consumed = self.round_trip("kjs-offsets", -1)
        out = self.kafkajs("offsets", "kjs-offsets", since_ms)
        counts = {p: sum(1 for q, _, _, _ in consumed if q == p) for p in range(PARTITIONS)}
        latest = {o["partition"]: (int(o["low"]), int(o["high"])) for o in out["latest"]}
        self.assertEqual(latest, {p: (0, n) for p, n in counts.items()})
        # Every record was written within the last minute: the first offset
        # at or after a minute ago is each partition's first.
        by_time = {o["partition"]: int(o["offset"]) for o in out["byTime"]}
        self.assertEqual(by_time, {p: 0 for p in range(PARTITIONS)})

    def test_delete_topic(self):
        self.create_topic("kjs-doomed", 2)
        self.kafkajs("produce", "kjs-doomed", 100, -1, "false", "None")
        self.assertNotIn("kjs-doomed", self.kafkajs("delete", "kjs-doomed")["topics"])
        # A topic of the same name starts empty.
        self.create_topic("kjs-doomed", 2)
        self.assertEqual(consume_assigned(self, self.bootstrap, "kjs-doomed", 2), [])


if __name__ == "__main__":
    unittest.main()
