"""confluent-kafka-python 1.7 (librdkafka 2.0) against castle broker.

Creates a topic with several partitions through the admin client, produces
thousands of keyed messages with acks 0, 1 and all (and idempotent, and
with each compression codec), reads every partition back with assign() and
checks per-partition order, no duplicates and nothing missing (acks=0 may
lose, not duplicate or reorder); ListOffsets earliest/latest through
get_watermark_offsets; topic deletion.

confluent-kafka 1.7 refuses to create a Consumer without group.id even when
partitions are assigned by hand ("group.id must be set"), so the consumer
names a group, never subscribes and never commits (enable.auto.commit
false): it starts from explicit offsets and fetches without a coordinator.
"""

import time
import unittest

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from castle_broker import BrokerTestCase
from messages import check_consumed, make_messages

COUNT = 5000
PARTITIONS = 4
TIMEOUT_S = 30


def assigning_consumer(bootstrap):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": "castle-interop",
                     "enable.auto.commit": False, "enable.partition.eof": False})


def consume_assigned(test, bootstrap, topic, partitions):
    """Every record of the topic's partitions up to their ends as (partition,
    offset, key, value), read with assign() from the beginning. Other
    clients' tests (test_kafkajs) read back with it too."""
    c = assigning_consumer(bootstrap)
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), TIMEOUT_S)[1]
            for p in range(partitions)}
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = []
    positions = {p: 0 for p in range(partitions)}
    deadline = time.monotonic() + TIMEOUT_S
    while any(positions[p] < ends[p] for p in ends):
        test.assertLess(time.monotonic(), deadline, f"consumed {len(out)}, ends {ends}")
        for m in c.consume(num_messages=1000, timeout=0.5):
            if m.error() is not None:
                raise KafkaException(m.error())
            out.append((m.partition(), m.offset(), m.key(), m.value()))
            positions[m.partition()] = m.offset() + 1
    c.close()
    return out


class ConfluentKafkaTest(BrokerTestCase):
    broker_props = {"auto.create.topics.enable": "false", "num.partitions": "3",
                    "log.segment.bytes": "1048576"}

    def admin(self):
        # One client per test: a future's handle must outlive the future
        # (a collected AdminClient fails its futures with _DESTROY).
        if getattr(self, "_admin", None) is None:
            self._admin = AdminClient({"bootstrap.servers": self.bootstrap})
        return self._admin

    def tearDown(self):
        self._admin = None
        super().tearDown()

    def create_topic(self, topic, partitions=PARTITIONS):
        futures = self.admin().create_topics([NewTopic(topic, partitions, 1)],
                                             operation_timeout=10)
        futures[topic].result(TIMEOUT_S)
        md = self.admin().list_topics(topic, timeout=TIMEOUT_S)
        self.assertEqual(len(md.topics[topic].partitions), partitions)

    def produce(self, topic, messages, **settings):
        conf = {"bootstrap.servers": self.bootstrap, "linger.ms": 5}
        conf.update(settings)
        p = Producer(conf)
        errors = []

        def on_delivery(err, msg):
            if err is not None:
                errors.append(err)

        for k, v in messages:
            while True:
                try:
                    p.produce(topic, key=k, value=v, on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.1)
        left = p.flush(TIMEOUT_S)
        self.assertEqual(left, 0, "messages still undelivered after flush")
        self.assertEqual(errors[:3], [], "delivery failed")

    def consumer(self):
        return assigning_consumer(self.bootstrap)

    def consume(self, topic, partitions=PARTITIONS):
        return consume_assigned(self, self.bootstrap, topic, partitions)

    def round_trip(self, topic, allow_loss=False, **settings):
        self.create_topic(topic)
        sent = make_messages(topic, COUNT)
        self.produce(topic, sent, **settings)
        consumed = self.consume(topic)
        check_consumed(self, sent, consumed, allow_loss=allow_loss)
        return consumed

    def test_acks_all(self):
        self.round_trip("ck-acks-all", acks="all")

    def test_acks_1(self):
        self.round_trip("ck-acks-1", acks=1)

    def test_acks_0(self):
        self.round_trip("ck-acks-0", allow_loss=True, acks=0)

    def test_idempotent_producer(self):
        self.round_trip("ck-idempotent", **{"enable.idempotence": True})

    def test_compression_codecs(self):
        for codec in ("gzip", "snappy", "lz4", "zstd"):
            with self.subTest(codec=codec):
                self.round_trip(f"ck-{codec}", **{"compression.codec": codec,
                                                  "enable.idempotence": True})

    def test_list_offsets_earliest_and_latest(self):
        consumed = self.round_trip("ck-offsets", acks="all")
        c = self.consumer()
        for p in range(PARTITIONS):
            n = sum(1 for q, _, _, _ in consumed if q == p)
            low, high = c.get_watermark_offsets(TopicPartition("ck-offsets", p), TIMEOUT_S)
            self.assertEqual((low, high), (0, n), f"partition {p}")
        c.close()

    def test_list_offsets_by_timestamp(self):
        self.create_topic("ck-times", 1)
        t0 = int(time.time() * 1000) - 60000
        p = Producer({"bootstrap.servers": self.bootstrap})
        for i in range(10):
            p.produce("ck-times", value=b"v%d" % i, partition=0, timestamp=t0 + i * 1000)
        self.assertEqual(p.flush(TIMEOUT_S), 0)
        c = self.consumer()
        for ts, expect in ((t0 - 1, 0), (t0, 0), (t0 + 4500, 5), (t0 + 9000, 9),
                           (t0 + 9001, -1)):
            got = c.offsets_for_times([TopicPartition("ck-times", 0, ts)], TIMEOUT_S)[0]
            self.assertEqual(got.offset, expect, f"first offset at or after {ts - t0} ms")
        c.close()

    def test_delete_topic(self):
        self.create_topic("ck-doomed", 2)
        self.produce("ck-doomed", make_messages("ck-doomed", 100))
        futures = self.admin().delete_topics(["ck-doomed"], operation_timeout=10)
        futures["ck-doomed"].result(TIMEOUT_S)
        deadline = time.monotonic() + TIMEOUT_S
        while "ck-doomed" in self.admin().list_topics(timeout=TIMEOUT_S).topics:
            self.assertLess(time.monotonic(), deadline, "the topic is still listed")
            time.sleep(0.1)
        # A topic of the same name starts empty.
        self.create_topic("ck-doomed", 2)
        self.assertEqual(self.consume("ck-doomed", 2), [])

    def test_create_existing_topic_fails(self):
        self.create_topic("ck-twice", 1)
        futures = self.admin().create_topics([NewTopic("ck-twice", 1, 1)], operation_timeout=10)
        with self.assertRaises(KafkaException) as e:
            futures["ck-twice"].result(TIMEOUT_S)
        self.assertIn("TOPIC_ALREADY_EXISTS", str(e.exception))

    def test_describe_configs(self):
        """DescribeConfigs answers the broker's properties and a topic's."""
        self.create_topic("ck-described", 1)
        resources = [ConfigResource(ConfigResource.Type.BROKER, "1"),
                     ConfigResource(ConfigResource.Type.TOPIC, "ck-described")]
        futures = self.admin().describe_configs(resources, request_timeout=TIMEOUT_S)
        broker, topic = (futures[r].result(TIMEOUT_S) for r in resources)
        self.assertEqual(broker["num.partitions"].value, "3")
        self.assertEqual(broker["log.segment.bytes"].value, "1048576")
        self.assertEqual(broker["auto.create.topics.enable"].value, "false")
        self.assertIn("segment.bytes", topic)
        self.assertIn("retention.ms", topic)


if __name__ == "__main__":
    unittest.main()
