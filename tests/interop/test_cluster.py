"""Three real `castle broker` processes as one cluster, and a partition
leader killed with SIGKILL under acks=all load (issue #6).

The nodes are combined broker+controller voters on loopback ports picked
free at start. A topic with replication factor 3 and min.insync.replicas=2
is created through confluent-kafka's admin client; an idempotent producer
with acks=all sends keyed messages while the leader of partition 0 is
killed with SIGKILL and, a little later, restarted on the same directory.
Afterwards a consumer reads every partition from the beginning up to the
high watermark: every acknowledged message must be there exactly once, at
the offset its delivery report gave, in per-partition send order.

The same again with kafkajs as the producer (kafkajs/client.js
produce-acked): another client's idea of following a leader that died.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from castle_broker import Broker
from messages import seq_of

NODES = 3
PARTITIONS = 3
COUNT = 3000
TIMEOUT_S = 60


def free_ports(n):
    """n distinct loopback ports that were free a moment ago."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Cluster:
    """NODES combined nodes; node i (1-based) has Kafka port kafka[i-1]."""

    def __init__(self):
        ports = free_ports(2 * NODES)
        self.kafka, self.controller = ports[:NODES], ports[NODES:]
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(self.controller))
        self.props = []
        for i in range(NODES):
            self.props.append({
                "node.id": str(i + 1),
                "process.roles": "broker,controller",
                "controller.quorum.voters": voters,
                "listeners": f"PLAINTEXT://127.0.0.1:{self.kafka[i]},"
                             f"CONTROLLER://127.0.0.1:{self.controller[i]}",
                "default.replication.factor": "3",
                "min.insync.replicas": "2",
                "auto.create.topics.enable": "false",
                "broker.session.timeout.ms": "3000",
                "broker.heartbeat.interval.ms": "500",
                "replica.lag.time.max.ms": "5000",
            })
        self.nodes = [None] * NODES
        for i in range(NODES):
            self.nodes[i] = Broker(self.props[i])

    def bootstrap(self):
        return ",".join(f"127.0.0.1:{p}" for p in self.kafka)

    def node_of_port(self, port):
        return self.kafka.index(port)

    def kill(self, i):
        self.nodes[i].stop(signal.SIGKILL)

    def restart(self, i):
        # Same directory, same configuration: the node recovers its logs
        # and its metadata log and rejoins.
        directory = self.nodes[i].directory
        self.nodes[i].owns_directory = False
        self.nodes[i] = Broker(self.props[i], directory=directory)
        self.nodes[i].owns_directory = True

    def stop(self):
        for n in self.nodes:
            if n is not None:
                n.stop()
                n.remove()


class ClusterLeaderKillTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster()
        self.admin = AdminClient({"bootstrap.servers": self.cluster.bootstrap()})

    def tearDown(self):
        self.admin = None
        self.cluster.stop()

    def wait_for_brokers(self):
        """Until every node has registered (the quorum elected a controller
        and each broker joined): librdkafka's admin client waits for a
        controller id it never asks again for within the test's time."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            # A metadata answer listing no broker yet leaves this client
            # waiting: ask with fresh clients until all have registered.
            admin = AdminClient({"bootstrap.servers": self.cluster.bootstrap()})
            try:
                md = admin.list_topics(timeout=2)
                if len(md.brokers) == NODES and md.controller_id >= 0:
                    return
            except KafkaException:
                pass
            time.sleep(0.2)
        self.fail(f"fewer than {NODES} brokers registered after {TIMEOUT_S} s")

    def wait_for_leaders(self, topic):
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            md = self.admin.list_topics(topic, timeout=10)
            t = md.topics.get(topic)
            if t is not None and t.error is None and len(t.partitions) == PARTITIONS and all(
                    p.leader >= 0 and len(p.isrs) == NODES for p in t.partitions.values()):
                return md
            time.sleep(0.2)
        self.fail(f"{topic}: partitions without a leader or a full ISR after {TIMEOUT_S} s")

    def leader_node(self, topic, partition):
        md = self.admin.list_topics(topic, timeout=10)
        leader = md.topics[topic].partitions[partition].leader
        port = md.brokers[leader].port
        return self.cluster.node_of_port(port)

    def create_replicated_topic(self, topic):
        """Once every broker registered: RF 3, min.insync.replicas 2, every
        partition led with a full ISR."""
        self.wait_for_brokers()
        self.admin = AdminClient({"bootstrap.servers": self.cluster.bootstrap()})
        futures = self.admin.create_topics(
            [NewTopic(topic, PARTITIONS, 3, config={"min.insync.replicas": "2"})],
            operation_timeout=30)
        futures[topic].result(TIMEOUT_S)
        self.wait_for_leaders(topic)

    def test_acked_messages_survive_a_leader_kill(self):
        topic = "replicated"
        self.create_replicated_topic(topic)
        acked = {}  # value -> (partition, offset)
        errors = {}  # error text -> count

        def on_delivery(err, msg):
            if err is None:
                acked[msg.value()] = (msg.partition(), msg.offset())
            else:
                errors[str(err)] = errors.get(str(err), 0) + 1

        producer = Producer({"bootstrap.servers": self.cluster.bootstrap(), "acks": "all",
                             "enable.idempotence": True, "linger.ms": 5,
                             "message.timeout.ms": 60000})
        victim = None
        for i in range(COUNT):
            producer.produce(topic, key=f"k{i % 50}".encode(), value=f"{topic}-{i}".encode(),
                             on_delivery=on_delivery)
            producer.poll(0)
            if i == COUNT // 3:
                producer.flush(TIMEOUT_S)
                victim = self.leader_node(topic, 0)
                self.cluster.kill(victim)
            if i == 2 * COUNT // 3:
                self.cluster.restart(victim)
            if i % 100 == 0:
                time.sleep(0.02)
        self.assertEqual(producer.flush(TIMEOUT_S), 0, "messages still undelivered")
        self.assertGreater(len(acked), COUNT // 2, f"most messages should be acknowledged: {errors}")
        self.check_all_acked_readable(topic, acked)

    def test_kafkajs_acked_messages_survive_a_leader_kill(self):
        client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kafkajs", "client.js")
        self.assertIsNotNone(shutil.which("node"), "node is not installed (scripts/install-deps.sh)")
        topic = "replicated-kafkajs"
        self.create_replicated_topic(topic)
        proc = subprocess.Popen(["node", client, self.cluster.bootstrap(), "produce-acked", topic,
                                 str(COUNT), str(PARTITIONS)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        acked, failures, unknown, victim = {}, [], 0, None
        try:
            # A hang is bounded by run.py's --timeout-s for the whole run.
            for line in proc.stdout:
                out = json.loads(line)
                for value, partition, offset in out.get("acked", []):
                    acked[value.encode()] = (partition, offset)
                unknown += out.get("unknown", 0)
                if "failed" in out:
                    failures.append(out["error"])
                if victim is None and out.get("sent", 0) >= COUNT // 3:
                    victim = self.leader_node(topic, 0)
                    self.cluster.kill(victim)
                elif victim is not None and out.get("sent", 0) >= 2 * COUNT // 3 and \
                        self.cluster.nodes[victim].proc is None:
                    self.cluster.restart(victim)
            self.assertEqual(proc.wait(TIMEOUT_S), 0, f"kafkajs failed: {proc.stderr.read()}")
        finally:
            proc.kill()
            proc.wait()
        print(f"kafkajs: {len(acked)} acked, {unknown} unanswered, {len(failures)} failed requests: {failures[:2]}")
        self.assertIsNotNone(victim, "the leader was never killed")
        self.assertGreater(len(acked), COUNT // 2,
                           f"most messages should be acknowledged: {failures[:3]}")
        self.check_all_acked_readable(topic, acked)

    def check_all_acked_readable(self, topic, acked):
        consumer = Consumer({"bootstrap.servers": self.cluster.bootstrap(), "group.id": "reader",
                             "enable.auto.commit": False})
        ends = {}
        for p in range(PARTITIONS):
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S)
            ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        got = {}
        deadline = time.monotonic() + TIMEOUT_S
        # Every log starts at offset 0, so the high watermarks add up to the
        # number of records to read.
        while len(got) < sum(ends.values()) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            self.assertNotIn(msg.value(), got, f"{msg.value()!r} read twice")
            got[msg.value()] = (msg.partition(), msg.offset())
        consumer.close()
        missing = [v for v in acked if v not in got]
        at = {where: v for v, where in got.items()}
        found_there = [(v, acked[v], at.get(acked[v])) for v in missing[:5]]
        self.assertEqual(missing[:5], [], f"{len(missing)} acknowledged messages missing; "
                         f"(value, acked at, read there): {found_there}")
        for v, where in acked.items():
            self.assertEqual(got[v], where, f"{v!r} read at another offset than acknowledged")
        for p in range(PARTITIONS):
            seqs = [seq_of(v) for v, (pp, o) in sorted(got.items(), key=lambda kv: kv[1][1])
                    if pp == p]
            self.assertEqual(seqs, sorted(seqs), f"partition {p}: send order not kept")


if __name__ == "__main__":
    unittest.main()
