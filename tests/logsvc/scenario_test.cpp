// Scenario files: every library scenario parses; a broken one gets an error
// that names the offending field; a scenario survives a JSON round trip.
#include <gtest/gtest.h>

#include <filesystem>

#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::scenarios {
namespace {

ParseError error_of(const std::string& text) {
  ParseError e;
  EXPECT_FALSE(parse_scenario(text, &e).has_value()) << text;
  return e;
}

TEST(ScenarioFile, LibraryScenariosParseAndNameRealNodes) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CASTLE_SOURCE_DIR "/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    ParseError e;
    auto s = load_scenario(entry.path().string(), &e);
    ASSERT_TRUE(s.has_value()) << entry.path() << ": " << e.to_string();
    EXPECT_FALSE(s->purpose.empty()) << entry.path();
    EXPECT_TRUE(validate_targets(*s, &e)) << e.to_string();
    ++n;
  }
  EXPECT_GE(n, 1);
}

TEST(ScenarioFile, ErrorsNameTheField) {
  EXPECT_EQ(error_of(R"({"name":"x","durration_ms":5})").field, "durration_ms");
  EXPECT_EQ(error_of(R"({"name":"x","cluster":{"servers":0}})").field, "cluster.servers");
  EXPECT_EQ(error_of(R"({"name":"x","cluster":{"servers":"3"}})").field, "cluster.servers");
  EXPECT_EQ(error_of(R"({"purpose":"no name"})").field, "name");
  EXPECT_EQ(error_of(R"({"name":"x","faults":{"timeline":[{"at_ms":1,"kind":"crsh"}]}})").field,
            "faults.timeline[0].kind");
  EXPECT_EQ(error_of(R"({"name":"x","faults":{"random":{"kinds":["crash","nope"]}}})").field,
            "faults.random.kinds[1]");
  EXPECT_EQ(error_of(R"({"name":"x","expect":"maybe"})").field, "expect");
  EXPECT_EQ(error_of("{not json").field, "scenario");
}

TEST(ScenarioFile, UnknownNodeInTimelineIsNamed) {
  ParseError e;
  auto s = parse_scenario(
      R"({"name":"x","cluster":{"servers":2},"faults":{"timeline":[{"at_ms":1,"kind":"crash","nodes":["s7"]}]}})",
      &e);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(validate_targets(*s, &e));
  EXPECT_EQ(e.field, "faults.timeline[0]");
  EXPECT_NE(e.message.find("s7"), std::string::npos);
}

TEST(ScenarioFile, RoundTripsThroughJson) {
  ParseError e;
  auto s = load_scenario(CASTLE_SOURCE_DIR "/scenarios/logsvc-crash-restart.json", &e);
  ASSERT_TRUE(s.has_value());
  auto again = parse_scenario(scenario_to_json(*s), &e);
  ASSERT_TRUE(again.has_value()) << e.to_string();
  EXPECT_EQ(scenario_to_json(*again), scenario_to_json(*s));
}

}  // namespace
}  // namespace castle::scenarios
