// `castle cluster`: the node files it writes are valid broker configs that
// form one quorum, bad flags are usage errors, and `up` starts the
// processes, waits until they serve, and stops them on SIGTERM.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/real/real_test_util.h"
#include "system/broker/broker_config.h"

namespace castle::real::testing {
namespace {


broker::BrokerConfig load_node(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  broker::PropertyError error;
  auto props = broker::parse_properties(text.str(), &error);
  EXPECT_TRUE(props.ok()) << path << ": " << error.message;
  broker::BrokerConfig c;
  EXPECT_TRUE(props.ok() && broker::apply_broker_properties(*props, &c, &error))
      << path << ": " << error.property << ": " << error.message;
  return c;
}

TEST(ClusterCli, ConfigWritesOneQuorumOfCombinedAndBrokerOnlyNodes) {
  TempDir dir;
  auto [code, out] = run_shell(castle_binary + " cluster config --brokers 5 --controllers 3 --dir " +
                               dir.path() + " --port-base 30000 --override num.partitions=4");
  ASSERT_EQ(code, 0) << out;
  std::vector<broker::QuorumVoter> voters;
  for (int i = 1; i <= 5; ++i) {
    const auto c = load_node(dir.path() + "/node-" + std::to_string(i) + "/server.properties");
    EXPECT_EQ(c.node_id, i);
    EXPECT_EQ(c.cluster.controller_role, i <= 3) << i;
    EXPECT_TRUE(c.cluster.broker_role);
    EXPECT_EQ(c.listen.port, 30000 + 2 * (i - 1));
    EXPECT_EQ(c.num_partitions, 4);
    if (i <= 3) {
      EXPECT_EQ(c.cluster.controller_listen->port, 30000 + 2 * (i - 1) + 1);
    }
    if (i == 1) voters = c.cluster.voters;
    EXPECT_EQ(c.cluster.voters, voters) << "node " << i << " names another quorum";
  }
  ASSERT_EQ(voters.size(), 3u);
  EXPECT_EQ(voters[2].address.port, 30005);
}

TEST(ClusterCli, BadFlagsAreUsageErrors) {
  TempDir dir;
  for (const std::string flags : {"config --brokers 0", "config --brokers 3 --controllers 4",
                                  "config --brokers 2 --port-base 65534", "sideways",
                                  "config --brokers 2 --override nonsense", "config --bogus 1"}) {
    auto [code, out] = run_shell(castle_binary + " cluster " + flags + " --dir " + dir.path());
    EXPECT_EQ(code, 2) << flags << ": " << out;
  }
}

TEST(ClusterCli, UpServesUntilSigterm) {
  TempDir dir;
  const int base = 20000 + static_cast<int>(::getpid() % 10000) * 2;
  // Start in the background, wait for the bootstrap line, then SIGTERM it.
  const std::string script =
      castle_binary + " cluster up --brokers 1 --dir " + dir.path() + " --port-base " +
      std::to_string(base) + " > " + dir.path() + "/up.out 2>&1 & pid=$!; " +
      "for i in $(seq 200); do grep -q bootstrap.servers " + dir.path() +
      "/up.out && break; sleep 0.05; done; kill -TERM $pid; wait $pid; echo exit=$?; cat " +
      dir.path() + "/up.out";
  auto [code, out] = run_shell(script);
  EXPECT_NE(out.find("bootstrap.servers=127.0.0.1:" + std::to_string(base)), std::string::npos) << out;
  EXPECT_NE(out.find("exit=0"), std::string::npos) << out;
  std::ifstream log(dir.path() + "/node-1/broker.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("listening on"), std::string::npos) << text.str();
}

}  // namespace
}  // namespace castle::real::testing
