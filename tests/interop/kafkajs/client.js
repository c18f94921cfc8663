// kafkajs (unmodified, pinned in package.json) as a command for the interop
// tests: tests/interop/test_kafkajs.py runs it and checks what it prints.
//
//   node client.js BOOTSTRAP create TOPIC PARTITIONS
//   node client.js BOOTSTRAP produce TOPIC COUNT ACKS IDEMPOTENT COMPRESSION
//   node client.js BOOTSTRAP offsets TOPIC SINCE_MS
//   node client.js BOOTSTRAP delete TOPIC
//
// Messages are those of messages.py: key k<i % 50>, value <topic>-<i>, sent
// in send order a hundred per request. Each command prints one JSON line on
// stdout and exits 0; any error prints it on stderr and exits 1.
'use strict';

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

const KEYS = 50;
const CHUNK = 100;

function client(bootstrap) {
  return new Kafka({
    clientId: 'castle-interop-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.ERROR,
    retry: { retries: 8 },
  });
}

async function withAdmin(kafka, f) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await f(admin);
  } finally {
    await admin.disconnect();
  }
}

async function create(kafka, topic, partitions) {
  return withAdmin(kafka, async (admin) => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: Number(partitions), replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return { created, partitions: metadata.topics[0].partitions.length };
  });
}

// Sends every message, CHUNK at a time, each send awaited (so send order is
// offset order within a partition). Returns the acknowledged base offsets.
async function produce(kafka, topic, count, acks, idempotent, compression) {
  const producer = kafka.producer({
    idempotent: idempotent === 'true',
    maxInFlightRequests: idempotent === 'true' ? 1 : 5,
    // The Java client's partitioner (murmur2 of the key), as librdkafka's
    // consistent_random is not: any fixed key -> partition map serves here.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const acked = [];
  try {
    for (let start = 0; start < count; start += CHUNK) {
      const messages = [];
      for (let i = start; i < Math.min(count, start + CHUNK); i++)
        messages.push({ key: `k${i % KEYS}`, value: `${topic}-${i}` });
      const result = await producer.send({
        topic,
        acks: Number(acks),
        compression: CompressionTypes[compression],
        messages,
      });
      for (const r of result) acked.push({ partition: r.partition, errorCode: r.errorCode, baseOffset: r.baseOffset });
    }
  } finally {
    await producer.disconnect();
  }
  return { sent: count, acked };
}

async function offsets(kafka, topic, sinceMs) {
  return withAdmin(kafka, async (admin) => ({
    latest: await admin.fetchTopicOffsets(topic),
    byTime: await admin.fetchTopicOffsetsByTimestamp(topic, Number(sinceMs)),
  }));
}

async function remove(kafka, topic) {
  return withAdmin(kafka, async (admin) => {
    await admin.deleteTopics({ topics: [topic] });
    return { topics: await admin.listTopics() };
  });
}

async function main(argv) {
  const [bootstrap, command, ...args] = argv;
  const kafka = client(bootstrap);
  const commands = { create, produce, offsets, delete: remove };
  if (!commands[command]) throw new Error(`unknown command ${command}`);
  return commands[command](kafka, ...args);
}

main(process.argv.slice(2)).then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
  },
  (error) => {
    process.stderr.write(`kafkajs: ${error.stack || error}\n`);
    process.exit(1);
  },
);
