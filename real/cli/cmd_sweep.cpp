// castle sweep SCENARIO... --seeds A..B [-j N] [--shard i/n] [--bug NAME]...
//
// Runs every seed of every scenario, each in its own forked process (so a
// crash of one run, an assertion failing, is reported as that seed's
// verdict instead of ending the sweep), N at a time. Prints a progress bar
// on stderr and a summary table: seeds run, verdicts, the first failing
// seed (seeds-to-detect for a scenario that expects a failure), simulated
// seconds per wall second and events per second. Exit 0 when every
// scenario behaved as it declares: `expect: pass` scenarios never fail,
// the others fail (as declared) on at least one seed and never otherwise.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <sstream>

#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "real/cli/sim_common.h"
#include "reports/report.h"
#include "scenarios/run.h"

namespace castle::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  std::size_t scenario = 0;
  std::uint64_t seed = 0;
};

// A buggify point over a sweep: in how many runs it was reached and armed,
// and how often it fired in all.
struct PointTally {
  int reached = 0;
  int armed = 0;
  std::uint64_t fired = 0;
};

struct Outcome {
  std::string verdict = "crash";  // pass, safety, liveness, or crash (the run died)
  std::int64_t sim_ns = 0;
  std::uint64_t events = 0;
  std::size_t anomalies = 0;
  std::map<std::string, std::pair<bool, std::uint64_t>> buggify;  // point: armed, fired
};

struct Tally {
  std::map<std::string, int> by_verdict;
  int runs = 0;
  std::int64_t sim_ns = 0;
  std::uint64_t events = 0;
  double wall_s = 0;
  std::optional<std::uint64_t> first_fail;
  std::vector<std::pair<std::uint64_t, std::string>> unexpected;  // seed, verdict
  std::map<std::string, PointTally> buggify;
};

struct Running {
  Job job;
  int fd = -1;
  Clock::time_point started;
};

std::pair<std::uint64_t, std::uint64_t> parse_range(const std::string& text) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) {
    const auto one = parse_u64("seeds", text);
    return {one, one};
  }
  const auto a = parse_u64("seeds", text.substr(0, dots));
  const auto b = parse_u64("seeds", text.substr(dots + 2));
  if (b < a) throw UsageError("--seeds A..B needs A <= B");
  return {a, b};
}

std::pair<std::uint64_t, std::uint64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw UsageError("--shard must be i/n, got '" + text + "'");
  const auto i = parse_u64("shard", text.substr(0, slash));
  const auto n = parse_u64("shard", text.substr(slash + 1));
  if (n == 0 || i == 0 || i > n) throw UsageError("--shard i/n needs 1 <= i <= n");
  return {i, n};
}

// In the child: run one seed and write the outcome to fd.
[[noreturn]] void run_child(const scenarios::Scenario& s, std::uint64_t seed, int fd) {
  scenarios::RunOptions opt;
  opt.seed = seed;
  opt.leave_world = true;  // the child _exits below
  const scenarios::RunResult r = scenarios::run_scenario(s, opt);
  std::ostringstream line;
  line << scenarios::to_string(r.verdict) << ' ' << r.sim_time_ns << ' ' << r.events << ' '
       << r.check.anomalies.size();
  for (const auto& [point, armed] : r.buggify_points) {
    const auto fired = r.buggify_fired.find(point);
    line << ' ' << point << ' ' << armed << ' ' << (fired == r.buggify_fired.end() ? 0 : fired->second);
  }
  line << '\n';
  const std::string text = line.str();
  [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
  ::_exit(0);
}

Outcome read_outcome(int fd) {
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  Outcome o;
  std::istringstream in(text);
  std::string verdict;
  if (!(in >> verdict >> o.sim_ns >> o.events >> o.anomalies)) return o;
  o.verdict = verdict;
  std::string point;
  bool armed = false;
  std::uint64_t fired = 0;
  while (in >> point >> armed >> fired) o.buggify[point] = {armed, fired};
  return o;
}

bool expected(const scenarios::Scenario& s, const std::string& verdict) {
  return verdict == "pass" || verdict == s.expect;
}

void progress(std::size_t done, std::size_t total, int failed, double sim_per_wall) {
  constexpr int width = 30;
  const int filled = total == 0 ? width : static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r[%-*s] %zu/%zu runs  unexpected=%d  %.1f sim-s/s ", width,
               std::string(static_cast<std::size_t>(filled), '#').c_str(), done, total, failed,
               sim_per_wall);
  std::fflush(stderr);
}

class Sweep {
 public:
  Sweep(std::vector<scenarios::Scenario> ss, std::vector<std::string> paths, int jobs)
      : scenarios_(std::move(ss)), paths_(std::move(paths)), jobs_(jobs), tallies_(scenarios_.size()) {}

  void add(Job j) { queue_.push_back(j); }

  void run(bool show_progress) {
    total_ = queue_.size();
    const auto start = Clock::now();
    while (!queue_.empty() || !running_.empty()) {
      while (!queue_.empty() && static_cast<int>(running_.size()) < jobs_) launch();
      reap_one();
      if (show_progress) progress(done_, total_, unexpected_, sim_per_wall(start));
    }
    if (show_progress) std::fprintf(stderr, "\n");
    wall_s_ = std::chrono::duration<double>(Clock::now() - start).count();
  }

  int report() const;

 private:
  void print_buggify_coverage() const;
  void launch() {
    const Job j = queue_.front();
    queue_.pop_front();
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::close(fds[0]);
      run_child(scenarios_[j.scenario], j.seed, fds[1]);
    }
    ::close(fds[1]);
    running_[pid] = Running{j, fds[0], Clock::now()};
  }

  void reap_one() {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    auto it = running_.find(pid);
    if (it == running_.end()) return;
    Running r = it->second;
    running_.erase(it);
    Outcome o = read_outcome(r.fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) o.verdict = "crash";
    record(r, o);
  }

  void record(const Running& r, const Outcome& o) {
    Tally& t = tallies_[r.job.scenario];
    ++t.runs;
    ++t.by_verdict[o.verdict];
    t.sim_ns += o.sim_ns;
    t.events += o.events;
    t.wall_s += std::chrono::duration<double>(Clock::now() - r.started).count();
    for (const auto& [point, state] : o.buggify) {
      PointTally& pt = t.buggify[point];
      ++pt.reached;
      pt.armed += state.first ? 1 : 0;
      pt.fired += state.second;
    }
    if (o.verdict != "pass" && (!t.first_fail || r.job.seed < *t.first_fail)) t.first_fail = r.job.seed;
    if (!expected(scenarios_[r.job.scenario], o.verdict)) {
      t.unexpected.push_back({r.job.seed, o.verdict});
      ++unexpected_;
    }
    ++done_;
  }

  double sim_per_wall(Clock::time_point start) const {
    std::int64_t sim = 0;
    for (const auto& t : tallies_) sim += t.sim_ns;
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    return wall > 0 ? static_cast<double>(sim) / 1e9 / wall : 0;
  }

  std::vector<scenarios::Scenario> scenarios_;
  std::vector<std::string> paths_;
  int jobs_;
  std::vector<Tally> tallies_;
  std::deque<Job> queue_;
  std::map<pid_t, Running> running_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  int unexpected_ = 0;
  double wall_s_ = 0;
};

// Which buggify points a sweep exercised: a point armed in many runs that
// never fired is one the workload does not reach often enough to matter.
void Sweep::print_buggify_coverage() const {
  for (std::size_t i = 0; i < scenarios_.size(); ++i) {
    const Tally& t = tallies_[i];
    if (t.buggify.empty()) continue;
    std::printf("buggify %s (point: runs reached/armed, times fired):", scenarios_[i].name.c_str());
    for (const auto& [point, pt] : t.buggify)
      std::printf(" %s %d/%d %llu%s", point.c_str(), pt.reached, pt.armed,
                  static_cast<unsigned long long>(pt.fired), pt.armed > 0 && pt.fired == 0 ? " (never fired)" : "");
    std::printf("\n");
  }
}

int Sweep::report() const {
  std::printf("%-42s %-8s %6s %6s %6s %8s %6s %10s %12s %10s\n", "scenario", "expect", "seeds",
              "pass", "safety", "liveness", "crash", "first-fail", "sim-s/wall-s", "events/s");
  int code = 0;
  for (std::size_t i = 0; i < scenarios_.size(); ++i) {
    const Tally& t = tallies_[i];
    const auto& s = scenarios_[i];
    auto count = [&](const char* v) {
      auto it = t.by_verdict.find(v);
      return it == t.by_verdict.end() ? 0 : it->second;
    };
    const std::string first = t.first_fail ? std::to_string(*t.first_fail) : "-";
    std::printf("%-42s %-8s %6d %6d %6d %8d %6d %10s %12.1f %10.0f\n", s.name.c_str(),
                s.expect.c_str(), t.runs, count("pass"), count("safety"), count("liveness"),
                count("crash"), first.c_str(), t.wall_s > 0 ? t.sim_ns / 1e9 / t.wall_s : 0.0,
                t.wall_s > 0 ? t.events / t.wall_s : 0.0);
    if (!t.unexpected.empty()) code = 1;
    if (s.expect != "pass" && t.runs > 0 && !t.first_fail) {
      std::printf("  %s expects %s but no seed failed\n", s.name.c_str(), s.expect.c_str());
      code = 1;
    }
  }
  print_buggify_coverage();
  for (std::size_t i = 0; i < scenarios_.size(); ++i) {
    for (const auto& [seed, verdict] : tallies_[i].unexpected)
      std::printf("UNEXPECTED %s seed=%llu verdict=%s  reproduce: %s\n", scenarios_[i].name.c_str(),
                  static_cast<unsigned long long>(seed), verdict.c_str(),
                  reports::reproduce_command(paths_[i], seed, scenarios_[i]).c_str());
  }
  std::printf("sweep: %zu runs in %.1f s wall, %d unexpected\n", done_, wall_s_, unexpected_);
  return code;
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& argv) {
  Args args(argv, {"seeds", "j", "shard"}, {"no-progress"}, {"bug"});
  if (args.positional().empty()) throw UsageError("castle sweep needs at least one SCENARIO.json");
  const auto [first, last] = parse_range(args.value("seeds").value_or("1..100"));
  const auto [shard, shards] = parse_shard(args.value("shard").value_or("1/1"));
  const auto jobs = static_cast<int>(args.u64("j", 1));
  if (jobs < 1 || jobs > 256) throw UsageError("-j must be 1..256");
  std::vector<scenarios::Scenario> ss;
  try {
    for (const auto& p : args.positional()) ss.push_back(load_checked(p, args.values("bug")));
  } catch (const BadScenario& e) {
    std::fprintf(stderr, "castle sweep: %s\n", e.what());
    return 2;
  }
  Sweep sweep(ss, args.positional(), jobs);
  for (std::size_t i = 0; i < ss.size(); ++i)
    for (std::uint64_t seed = first; seed <= last; ++seed)
      if ((seed - first) % shards == shard - 1) sweep.add({i, seed});
  sweep.run(!args.has("no-progress") && ::isatty(2));
  return sweep.report();
}

}  // namespace castle::cli
