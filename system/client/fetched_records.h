#pragma once
// Turning the record bytes of one partition of a Fetch response into
// consumer records.
//
// A Fetch answer holds whole RecordBatch v2 batches back to back and may end
// with a partial batch cut at the byte limit: that one is ignored (it is
// fetched whole next time). A batch starts at or before the fetch offset, so
// records below the requested offset are skipped. Control batches (the
// markers of transactions) are skipped too. The next offset to fetch is the
// end of the last whole batch, even when it held nothing to return.
//
// This is pure decoding: no I/O. Decoding of batches uses
// storage/batch_builder.h for now; it belongs in protocol/ eventually.

#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "system/client/types.h"

namespace castle::client {

struct FetchedRecords {
  std::vector<ConsumerRecord> records;  // offsets >= the fetch offset, ascending
  std::int64_t next_offset = 0;         // where the next fetch starts
  bool only_partial = false;            // bytes held no whole batch at all
  std::error_code error;                // a corrupt or compressed batch stops the decode
};

FetchedRecords decode_fetched(const std::string& topic, std::int32_t partition,
                              std::span<const std::uint8_t> bytes, std::int64_t fetch_offset);

}  // namespace castle::client
