"""The workload every interop client runs, and its checks.

A producer sends `count` keyed messages: key `k<K>` for K in range(keys),
value `<topic>-<seq>` with seq the global send order. Consumed records are
(partition, offset, key, value) tuples. The checks: every key lives in one
partition; within a partition offsets increase and so does seq (the send
order); nothing is duplicated; and nothing is missing unless loss is allowed
(acks=0, where the producer never learns of a loss).
"""

KEYS = 50


def make_messages(topic, count, keys=KEYS):
    return [(f"k{i % keys}".encode(), f"{topic}-{i}".encode()) for i in range(count)]


def seq_of(value):
    return int(value.rsplit(b"-", 1)[1])


def check_consumed(test, sent, consumed, allow_loss=False):
    """sent: [(key, value)] in send order; consumed: [(partition, offset, key, value)]."""
    sent_keys = {v: k for k, v in sent}
    values = [c[3] for c in consumed]
    test.assertEqual(len(values), len(set(values)), "a message was consumed twice")
    unknown = [v for v in values if v not in sent_keys]
    test.assertEqual(unknown[:5], [], "consumed messages that were never sent")
    for p, o, k, v in consumed:
        test.assertEqual(k, sent_keys[v], f"key of {v!r} changed")
    partition_of_key = {}
    for p, o, k, v in consumed:
        test.assertEqual(partition_of_key.setdefault(k, p), p, f"key {k!r} in two partitions")
    by_partition = {}
    for p, o, k, v in consumed:
        by_partition.setdefault(p, []).append((o, seq_of(v)))
    for p, recs in by_partition.items():
        offsets = [o for o, _ in recs]
        seqs = [s for _, s in recs]
        test.assertEqual(offsets, sorted(set(offsets)), f"partition {p}: offsets not increasing")
        test.assertEqual(seqs, sorted(seqs), f"partition {p}: send order not kept")
        if not allow_loss:
            test.assertEqual(offsets, list(range(offsets[0], offsets[0] + len(offsets))),
                             f"partition {p}: offsets not dense")
    if not allow_loss:
        missing = len(sent) - len(values)
        test.assertEqual(missing, 0, f"{missing} of {len(sent)} acknowledged messages missing")
    else:
        test.assertGreater(len(values), 0, "acks=0: nothing arrived at all")
