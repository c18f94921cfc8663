#include "system/logsvc/wire.h"

#include "system/util/crc32c.h"
#include "system/util/endian.h"

namespace castle::logsvc {

namespace {

class Writer {
 public:
  void u8(std::uint8_t v) { out.push_back(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void bytes(std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
  std::vector<std::uint8_t> out;

 private:
  void put(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
};

// Bounds-checked reads: a malformed body sets failed and yields zeros.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::vector<std::uint8_t> bytes(std::size_t n) {
    if (n > in_.size() - pos_) {
      failed = true;
      return {};
    }
    std::vector<std::uint8_t> b(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return b;
  }
  std::size_t remaining() const { return in_.size() - pos_; }
  bool failed = false;

 private:
  std::uint64_t get(int n) {
    if (static_cast<std::size_t>(n) > in_.size() - pos_) {
      failed = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

void encode_body(Writer& w, const Message& m) {
  switch (m.kind) {
    case Kind::append: w.bytes(m.payload); break;
    case Kind::append_ok: w.u64(m.offset); break;
    case Kind::read:
      w.u64(m.offset);
      w.u32(m.records_max);
      break;
    case Kind::read_ok:
      w.u64(m.offset);
      w.u32(static_cast<std::uint32_t>(m.entries.size()));
      for (const Entry& e : m.entries) {
        w.u64(e.offset);
        w.u8(static_cast<std::uint8_t>(e.status));
        w.u32(static_cast<std::uint32_t>(e.payload.size()));
        w.bytes(e.payload);
      }
      break;
    case Kind::error:
      w.u16(static_cast<std::uint16_t>(m.error));
      w.bytes({reinterpret_cast<const std::uint8_t*>(m.message.data()), m.message.size()});
      break;
  }
}

bool decode_entries(Reader& r, Message& m) {
  const std::uint32_t count = r.u32();
  if (count > frame_bytes_max / 13) return false;
  for (std::uint32_t i = 0; i < count && !r.failed; ++i) {
    Entry e;
    e.offset = r.u64();
    const std::uint8_t status = r.u8();
    if (status > 1) return false;
    e.status = static_cast<RecordStatus>(status);
    e.payload = r.bytes(r.u32());
    m.entries.push_back(std::move(e));
  }
  return !r.failed;
}

}  // namespace

std::vector<std::uint8_t> encode(const Message& m) {
  Writer w;
  w.u32(0);  // length, patched below
  w.u8(static_cast<std::uint8_t>(m.kind));
  w.u64(m.request_id);
  encode_body(w, m);
  const auto body = static_cast<std::uint32_t>(w.out.size() - 4);
  for (int i = 0; i < 4; ++i) w.out[i] = static_cast<std::uint8_t>(body >> (24 - 8 * i));
  return std::move(w.out);
}

std::optional<Message> decode(std::span<const std::uint8_t> body) {
  Reader r(body);
  Message m;
  const std::uint8_t kind = r.u8();
  if (kind < 1 || kind > 5) return std::nullopt;
  m.kind = static_cast<Kind>(kind);
  m.request_id = r.u64();
  switch (m.kind) {
    case Kind::append: m.payload = r.bytes(r.remaining()); break;
    case Kind::append_ok: m.offset = r.u64(); break;
    case Kind::read:
      m.offset = r.u64();
      m.records_max = r.u32();
      break;
    case Kind::read_ok:
      m.offset = r.u64();
      if (!decode_entries(r, m)) return std::nullopt;
      break;
    case Kind::error: {
      m.error = static_cast<ErrorCode>(r.u16());
      auto msg = r.bytes(r.remaining());
      m.message.assign(msg.begin(), msg.end());
      break;
    }
  }
  if (r.failed || r.remaining() != 0) return std::nullopt;
  return m;
}

Result<std::vector<std::uint8_t>> read_frame(Connection& conn, std::optional<Instant> deadline,
                                             bool* end_of_stream) {
  *end_of_stream = false;
  std::uint8_t len_buf[4];
  ReadExact h = read_exact(conn, len_buf, deadline);
  if (!h.status) {
    *end_of_stream = h.end_of_stream;
    return h.status.error();
  }
  const auto len = static_cast<std::uint32_t>(load_be(len_buf, 4));
  if (len > frame_bytes_max) return std::errc::message_size;
  std::vector<std::uint8_t> body(len);
  ReadExact b = read_exact(conn, body, deadline);
  if (!b.status) return b.status.error();
  return body;
}

std::vector<std::uint8_t> encode_record(std::uint64_t offset,
                                        std::span<const std::uint8_t> payload) {
  Writer w;
  w.u32(record_magic);
  w.u32(static_cast<std::uint32_t>(payload.size()));
  w.u64(offset);
  w.u32(crc32c(payload));
  w.u32(crc32c({w.out.data(), 20}));
  w.bytes(payload);
  return std::move(w.out);
}

namespace {
struct Header {
  std::uint32_t length;
  std::uint64_t offset;
  std::uint32_t payload_crc;
};

// A header is good if its magic and checksum hold and its payload fits.
std::optional<Header> good_header(std::span<const std::uint8_t> image, std::uint64_t pos) {
  if (pos + record_header_bytes > image.size()) return std::nullopt;
  const std::uint8_t* p = image.data() + pos;
  if (load_be(p, 4) != record_magic) return std::nullopt;
  if (load_be(p + 20, 4) != crc32c({p, 20})) return std::nullopt;
  Header h{static_cast<std::uint32_t>(load_be(p + 4, 4)), load_be(p + 8, 8),
           static_cast<std::uint32_t>(load_be(p + 16, 4))};
  if (pos + record_header_bytes + h.length > image.size()) return std::nullopt;
  return h;
}
}  // namespace

Scan scan_log(std::span<const std::uint8_t> image) {
  Scan scan;
  std::uint64_t pos = 0;
  std::uint64_t next_offset = 0;
  while (pos < image.size()) {
    auto h = good_header(image, pos);
    std::uint64_t found = pos;
    while (!h && ++found < image.size()) h = good_header(image, found);
    if (!h) break;  // nothing good after pos: a torn tail
    if (found != pos || h->offset < next_offset) {
      ++scan.corrupt_regions;
      if (h->offset < next_offset) break;  // a stale record image: stop trusting the file
    }
    // Offsets skipped by a damaged region are known to be corrupt.
    for (std::uint64_t o = next_offset; o < h->offset; ++o)
      scan.items.push_back({o, RecordStatus::corrupt, found, 0});
    const std::uint8_t* payload = image.data() + found + record_header_bytes;
    const bool intact = crc32c({payload, h->length}) == h->payload_crc;
    scan.items.push_back(
        {h->offset, intact ? RecordStatus::ok : RecordStatus::corrupt, found, h->length});
    next_offset = h->offset + 1;
    pos = found + record_header_bytes + h->length;
    scan.valid_end = pos;
  }
  return scan;
}

}  // namespace castle::logsvc
