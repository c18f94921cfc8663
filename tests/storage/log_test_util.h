#pragma once
// Shared by the storage tests, simulated and real: batch makers and a full
// scan of a log through its public read API, with a density check.

#include <cstdint>
#include <string>
#include <vector>

#include "system/runtime/random.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"
#include "system/storage/log.h"

namespace castle::storage::testing {

// A batch of `count` records with values of about value_bytes each, drawn
// from rng; timestamps are ts_ms.
inline Bytes make_batch(Rng& rng, int count, std::size_t value_bytes, std::int64_t ts_ms) {
  std::vector<Record> records(static_cast<std::size_t>(count));
  for (Record& r : records) {
    r.timestamp_ms = ts_ms;
    r.key = Bytes{static_cast<std::uint8_t>(rng.below(256))};
    Bytes v(value_bytes);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng.below(256));
    r.value = std::move(v);
  }
  return build_batch(records);
}

// What a leader append stores: the batch with the assigned base offset and
// the leader epoch written in.
inline Bytes as_stored(Bytes batch, std::int64_t base_offset, std::int32_t epoch) {
  set_base_offset(batch, base_offset);
  set_leader_epoch(batch, epoch);
  return batch;
}

// Every batch of the log from its start, read through Log::read.
struct Scan {
  std::string error;  // empty if the scan went through
  bool read_failed = false;     // a read returned an error (the scan stops there)
  bool corrupt_served = false;  // a read returned a batch failing its CRC or framing
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::vector<Bytes> batches;
};

// Reads the whole log in reads of max_bytes. Every returned batch must pass
// its CRC; an error names the offset and the reason.
inline Scan full_scan(Log& log, std::size_t max_bytes) {
  // Reads beyond this many are a log that does not progress.
  constexpr int reads_max = 1'000'000;
  Scan s;
  s.start = log.log_start_offset();
  s.end = log.log_end_offset();
  std::int64_t at = s.start;
  for (int i = 0; at < s.end; ++i) {
    if (i == reads_max) return s.error = "scan does not progress", s;
    auto r = log.read(at, max_bytes);
    if (!r.ok()) return s.read_failed = true, s.error = "read at " + std::to_string(at) + ": " + r.error().message(), s;
    auto parts = split_batches(r->bytes);
    if (!parts.ok()) return s.corrupt_served = true, s.error = "read at " + std::to_string(at) + " returned a corrupt batch", s;
    if (parts->empty() || r->next_offset <= at)
      return s.error = "read at " + std::to_string(at) + " returned nothing below the end", s;
    for (auto p : *parts) s.batches.emplace_back(p.begin(), p.end());
    at = r->next_offset;
  }
  if (at != s.end) s.error = "scan ended at " + std::to_string(at) + " past the log end";
  return s;
}

// Checks that scanned batches are dense from the start to the end offset:
// the first holds the start offset, each begins after the previous, the last
// ends at the log end. Returns a description of the first gap, or "".
inline std::string density_error(const Scan& s) {
  if (s.batches.empty()) return s.start == s.end ? "" : "no batches between start and end";
  const BatchView first(s.batches.front());
  if (first.base_offset() > s.start || first.last_offset() < s.start)
    return "first batch " + std::to_string(first.base_offset()) + " does not hold the start " +
           std::to_string(s.start);
  std::int64_t next = first.base_offset();
  for (const Bytes& b : s.batches) {
    const BatchView v(b);
    if (v.base_offset() != next)
      return "batch at " + std::to_string(v.base_offset()) + " where " + std::to_string(next) + " was due";
    next = v.next_offset();
  }
  if (next != s.end) return "batches end at " + std::to_string(next) + ", log end is " + std::to_string(s.end);
  return "";
}

}  // namespace castle::storage::testing
