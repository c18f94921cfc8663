#include "system/client/fetched_records.h"

#include <algorithm>

#include "system/client/errors.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"

namespace castle::client {
namespace {

ConsumerRecord to_consumer(const std::string& topic, std::int32_t partition,
                           storage::DecodedRecord& d) {
  ConsumerRecord c;
  c.topic = topic;
  c.partition = partition;
  c.offset = d.offset;
  c.key = std::move(d.record.key);
  c.value = std::move(d.record.value);
  for (auto& h : d.record.headers) c.headers.push_back({std::move(h.key), std::move(h.value)});
  c.timestamp_ms = d.record.timestamp_ms;
  return c;
}

// Decodes one whole, validated batch into out; false with out.error set if
// the batch cannot be read.
bool take_batch(const std::string& topic, std::int32_t partition, const storage::BatchView& v,
                std::int64_t fetch_offset, FetchedRecords& out) {
  if (!v.control()) {
    if (v.compression() != 0) {
      out.error = kafka_error(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
      return false;
    }
    auto decoded = storage::decode_validated_batch(v);  // decode_fetched checked its CRC
    if (!decoded) {
      out.error = kafka_error(ErrorCode::CORRUPT_MESSAGE);
      return false;
    }
    for (storage::DecodedRecord& d : *decoded) {
      if (d.offset < fetch_offset) continue;
      if (v.log_append_time()) d.record.timestamp_ms = v.max_timestamp();
      out.records.push_back(to_consumer(topic, partition, d));
    }
  }
  out.next_offset = std::max(out.next_offset, v.next_offset());
  return true;
}

}  // namespace

FetchedRecords decode_fetched(const std::string& topic, std::int32_t partition,
                              std::span<const std::uint8_t> bytes, std::int64_t fetch_offset) {
  FetchedRecords out;
  out.next_offset = fetch_offset;
  std::size_t at = 0;
  bool whole_seen = false;
  while (bytes.size() - at >= storage::batch_length_prefix_bytes) {
    const std::span<const std::uint8_t> rest = bytes.subspan(at);
    const std::size_t size = storage::BatchView::size_from_prefix(rest);
    if (size == 0 || size > rest.size()) break;  // the partial tail of a size-limited answer
    const storage::BatchView v(rest.first(size));
    if (v.validate() != storage::BatchError::ok) {
      out.error = kafka_error(ErrorCode::CORRUPT_MESSAGE);
      break;
    }
    whole_seen = true;
    if (!take_batch(topic, partition, v, fetch_offset, out)) break;
    at += size;
  }
  out.only_partial = !whole_seen && !bytes.empty() && !out.error;
  return out;
}

}  // namespace castle::client
