"""kafka-python 2.0.2 (pure Python) against castle broker.

kafka-python probes the broker on connect by pipelining ApiVersions v0 and
Metadata v0 on one connection, so every test here depends on the broker
answering requests strictly in order. Creates a topic with several
partitions through KafkaAdminClient, produces thousands of keyed messages
with acks 0, 1 and all (and gzip, the codec kafka-python has built in),
reads every partition back with a group-less consumer (group_id=None and
assign()), checks per-partition order, no duplicates and nothing missing
(acks=0 may lose, not duplicate or reorder); ListOffsets earliest/latest
through beginning_offsets/end_offsets; topic deletion.
"""

import time
import unittest

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from castle_broker import BrokerTestCase
from messages import check_consumed, make_messages

COUNT = 3000
PARTITIONS = 4
TIMEOUT_S = 30


class KafkaPythonTest(BrokerTestCase):
    broker_props = {"auto.create.topics.enable": "false"}

    def setUp(self):
        super().setUp()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def keep(self, client):
        self.clients.append(client)
        return client

    def admin(self):
        return self.keep(KafkaAdminClient(bootstrap_servers=self.bootstrap,
                                          request_timeout_ms=TIMEOUT_S * 1000))

    def create_topic(self, topic, partitions=PARTITIONS):
        self.admin().create_topics([NewTopic(topic, num_partitions=partitions,
                                             replication_factor=1)])
        c = self.keep(KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None))
        deadline = time.monotonic() + TIMEOUT_S
        while c.partitions_for_topic(topic) is None:
            self.assertLess(time.monotonic(), deadline, f"{topic} never appeared in metadata")
            time.sleep(0.1)
        self.assertEqual(c.partitions_for_topic(topic), set(range(partitions)))

    def produce(self, topic, messages, **settings):
        p = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5, **settings)
        futures = [p.send(topic, key=k, value=v) for k, v in messages]
        p.flush(TIMEOUT_S)
        for f in futures:
            f.get(TIMEOUT_S)  # raises the delivery error, if any
        p.close(TIMEOUT_S)

    def consume(self, topic, partitions=PARTITIONS):
        c = self.keep(KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest"))
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        out = []
        deadline = time.monotonic() + TIMEOUT_S
        while any(c.position(tp) < ends[tp] for tp in tps):
            self.assertLess(time.monotonic(), deadline, f"consumed {len(out)}, ends {ends}")
            for tp, records in c.poll(timeout_ms=500, max_records=2000).items():
                out += [(r.partition, r.offset, r.key, r.value) for r in records]
        return out

    def round_trip(self, topic, allow_loss=False, **settings):
        self.create_topic(topic)
        sent = make_messages(topic, COUNT)
        self.produce(topic, sent, **settings)
        consumed = self.consume(topic)
        check_consumed(self, sent, consumed, allow_loss=allow_loss)
        return consumed

    def test_acks_all(self):
        self.round_trip("kp-acks-all", acks="all")

    def test_acks_1(self):
        self.round_trip("kp-acks-1", acks=1)

    def test_acks_0(self):
        self.round_trip("kp-acks-0", allow_loss=True, acks=0)

    def test_gzip(self):
        self.round_trip("kp-gzip", acks="all", compression_type="gzip")

    def test_list_offsets_earliest_and_latest(self):
        consumed = self.round_trip("kp-offsets", acks="all")
        c = self.keep(KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None))
        tps = [TopicPartition("kp-offsets", p) for p in range(PARTITIONS)]
        self.assertEqual(c.beginning_offsets(tps), {tp: 0 for tp in tps})
        counts = {tp: sum(1 for p, _, _, _ in consumed if p == tp.partition) for tp in tps}
        self.assertEqual(c.end_offsets(tps), counts)

    def test_delete_topic(self):
        self.create_topic("kp-doomed", 2)
        self.produce("kp-doomed", make_messages("kp-doomed", 100))
        self.admin().delete_topics(["kp-doomed"], timeout_ms=TIMEOUT_S * 1000)
        deadline = time.monotonic() + TIMEOUT_S
        while "kp-doomed" in self.admin().list_topics():
            self.assertLess(time.monotonic(), deadline, "the topic is still listed")
            time.sleep(0.1)

    def test_create_existing_topic_fails(self):
        self.create_topic("kp-twice", 1)
        with self.assertRaises(TopicAlreadyExistsError):
            self.admin().create_topics([NewTopic("kp-twice", num_partitions=1,
                                                 replication_factor=1)])

    def test_pipelined_probe_on_connect(self):
        """The connect-time probe (ApiVersions v0 then Metadata v0 pipelined on
        one connection) must end with a known broker version."""
        c = self.keep(KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None))
        self.assertIsNotNone(c.config["api_version"])
        self.assertGreaterEqual(c.config["api_version"], (0, 10))


if __name__ == "__main__":
    unittest.main()
