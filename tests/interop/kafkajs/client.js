// kafkajs (unmodified, pinned in package.json) as a command for the interop
// tests: tests/interop/test_kafkajs.py runs it and checks what it prints.
//
//   node client.js BOOTSTRAP create TOPIC PARTITIONS
//   node client.js BOOTSTRAP produce TOPIC COUNT ACKS IDEMPOTENT COMPRESSION
//   node client.js BOOTSTRAP offsets TOPIC SINCE_MS
//   node client.js BOOTSTRAP delete TOPIC
//   node client.js BOOTSTRAP produce-acked TOPIC COUNT PARTITIONS
//
// Messages are those of messages.py: key k<i % 50>, value <topic>-<i>, sent
// in send order a hundred per request. Each command prints one JSON line on
// stdout and exits 0; any error prints it on stderr and exits 1.
// produce-acked instead prints a line per request as it goes (the test
// kills a broker meanwhile): the offset of every acknowledged message, or
// that the request failed.
'use strict';

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

const KEYS = 50;
const CHUNK = 100;

function client(bootstrap) {
  return new Kafka({
    clientId: 'castle-interop-kafkajs',
    brokers: bootstrap.split(','),
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
async function produce(kafka, topic, countArg, acks, idempotent, compression) {
  const count = Number(countArg);
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

// An idempotent acks=all producer sending CHUNK / 2 messages per request,
// key k<i % KEYS> to partition (i % KEYS) % partitions, so that each
// message's offset follows from its request's base offset in its
// partition. A request that fails after kafkajs's own retries is reported
// and the next one sent: its messages may or may not be in the log.
//
// After any request whose fate is unknown the producer is replaced by a
// new one (a new producer id). kafkajs 2.2.4 rewinds a partition's sequence
// number when a produce request fails, even one the dead leader had
// written and replicated, and gives the next messages the same sequence
// numbers: the broker, as Kafka's does, then answers them as duplicates of
// the earlier batch, with its offsets, and they are never written.
async function produceAcked(kafka, topic, countArg, partitionsArg) {
  const count = Number(countArg);
  const partitions = Number(partitionsArg);
  const connect = async () => {
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    return p;
  };
  let producer = await connect();
  const chunk = CHUNK / 2;
  try {
    for (let start = 0; start < count; start += chunk) {
      const messages = [];
      for (let i = start; i < Math.min(count, start + chunk); i++)
        messages.push({ key: `k${i % KEYS}`, value: `${topic}-${i}`, partition: (i % KEYS) % partitions });
      const line = await sendAcked(producer, topic, messages, start);
      process.stdout.write(JSON.stringify(line) + '\n');
      if (line.unknown > 0 || line.failed) {
        await producer.disconnect();
        producer = await connect();
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { done: true };
}

async function sendAcked(producer, topic, messages, start) {
  const line = { sent: start + messages.length, acked: [], unknown: 0 };
  try {
    const result = await producer.send({ topic, acks: -1, messages });
    const base = new Map(result.map((r) => [r.partition, BigInt(r.baseOffset)]));
    for (const m of messages) {
      // kafkajs 2.2.4 may leave out of its answer a partition whose
      // leader died under the send (seen here): no offset, fate unknown.
      if (!base.has(m.partition)) {
        line.unknown++;
        continue;
      }
      const offset = base.get(m.partition);
      base.set(m.partition, offset + 1n);
      line.acked.push([m.value, m.partition, Number(offset)]);
    }
  } catch (error) {
    line.failed = messages.length;
    line.error = String(error);
  }
  return line;
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
  const commands = { create, produce, offsets, delete: remove, 'produce-acked': produceAcked };
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
