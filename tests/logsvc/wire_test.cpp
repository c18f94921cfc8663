// The proof service's wire and record formats: round trips, malformed input
// rejected (never undefined behaviour), and the recovery scan's handling of
// torn tails and damage in the middle.
#include <gtest/gtest.h>

#include "system/logsvc/wire.h"
#include "system/runtime/random.h"

namespace castle::logsvc {
namespace {

Message msg(Kind k, std::uint64_t id) {
  Message m;
  m.kind = k;
  m.request_id = id;
  return m;
}

std::vector<std::uint8_t> body_of(const std::vector<std::uint8_t>& frame) {
  return {frame.begin() + 4, frame.end()};
}

TEST(Wire, EveryKindRoundTrips) {
  Message a = msg(Kind::append, 7);
  a.payload = {1, 2, 3};
  Message ok = msg(Kind::append_ok, 8);
  ok.offset = 42;
  Message rd = msg(Kind::read, 9);
  rd.offset = 5;
  rd.records_max = 10;
  Message rok = msg(Kind::read_ok, 10);
  rok.offset = 3;
  rok.entries = {{0, RecordStatus::ok, {9, 9}}, {1, RecordStatus::corrupt, {}}};
  Message err = msg(Kind::error, 11);
  err.error = ErrorCode::unknown;
  err.message = "disk";
  for (const Message& m : {a, ok, rd, rok, err}) {
    auto d = decode(body_of(encode(m)));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(encode(*d), encode(m));
  }
}

TEST(Wire, TruncatedAndGarbageBodiesAreRejected) {
  Message rok = msg(Kind::read_ok, 10);
  rok.entries = {{0, RecordStatus::ok, {1, 2, 3, 4}}};
  auto body = body_of(encode(rok));
  for (std::size_t n = 0; n < body.size(); ++n)
    EXPECT_FALSE(decode({body.data(), n}).has_value()) << "prefix of " << n;
  Rng r(3);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk(r.below(64));
    for (auto& b : junk) b = static_cast<std::uint8_t>(r.next());
    (void)decode(junk);  // must not crash; under ASan must not read out of bounds
  }
}

std::vector<std::uint8_t> log_of(int n) {
  std::vector<std::uint8_t> img;
  for (int i = 0; i < n; ++i) {
    std::vector<std::uint8_t> payload(10 + i, static_cast<std::uint8_t>(i));
    auto rec = encode_record(static_cast<std::uint64_t>(i), payload);
    img.insert(img.end(), rec.begin(), rec.end());
  }
  return img;
}

TEST(Scan, IntactLogIsReadWhole) {
  auto img = log_of(5);
  Scan s = scan_log(img);
  ASSERT_EQ(s.items.size(), 5u);
  EXPECT_EQ(s.valid_end, img.size());
  EXPECT_EQ(s.corrupt_regions, 0u);
}

TEST(Scan, TornTailIsCutAtTheLastGoodRecord) {
  auto img = log_of(5);
  const std::size_t four = scan_log(img).items[4].position;
  for (std::size_t cut = four + 1; cut < img.size(); cut += 7) {
    std::vector<std::uint8_t> torn(img.begin(), img.begin() + static_cast<std::ptrdiff_t>(cut));
    Scan s = scan_log(torn);
    EXPECT_EQ(s.items.size(), 4u);
    EXPECT_EQ(s.valid_end, four);
  }
}

TEST(Scan, DamagedPayloadInTheMiddleIsReportedCorrupt) {
  auto img = log_of(5);
  const auto pos = scan_log(img).items[2].position;
  img[pos + record_header_bytes + 3] ^= 0x10;
  Scan s = scan_log(img);
  ASSERT_EQ(s.items.size(), 5u);
  EXPECT_EQ(s.items[2].status, RecordStatus::corrupt);
  EXPECT_EQ(s.items[3].status, RecordStatus::ok);
}

TEST(Scan, DamagedHeaderInTheMiddleResyncsAndReportsTheGap) {
  auto img = log_of(5);
  const auto pos = scan_log(img).items[1].position;
  img[pos + 9] ^= 0x01;  // inside the offset field: header checksum fails
  Scan s = scan_log(img);
  ASSERT_EQ(s.items.size(), 5u);
  EXPECT_EQ(s.items[1].status, RecordStatus::corrupt);
  EXPECT_EQ(s.items[4].status, RecordStatus::ok);
  EXPECT_EQ(s.corrupt_regions, 1u);
}

}  // namespace
}  // namespace castle::logsvc
