#include "reports/dot.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "system/runtime/assert.h"

extern char** environ;

namespace castle::reports {

std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string dot_pos(double x_pt, double y_pt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%.1f,%.1f!\"", x_pt, y_pt);
  return buf;
}

std::string dot_shorten(const std::string& s, std::size_t chars_max) {
  CASTLE_ASSERT(chars_max >= 3, "too short to shorten");
  if (s.size() <= chars_max) return s;
  return s.substr(0, chars_max - 2) + "..";
}

std::string pinned_graph_header(const std::string& name) {
  // inputscale=72: positions are in points. splines=line: messages and
  // lifelines are straight. outputorder=edgesfirst: boxes cover lines.
  return "digraph " + dot_quote(name) +
         " {\n"
         "  graph [layout=neato, inputscale=72, splines=line, outputorder=edgesfirst,\n"
         "         bgcolor=white, pad=0.2, fontname=\"Helvetica\"];\n"
         "  node [fontname=\"Helvetica\", fontsize=9, fixedsize=true, pin=true];\n"
         "  edge [fontname=\"Helvetica\", fontsize=8];\n";
}

const char* family_colour(const std::string& family) {
  if (family == "node") return "#e8747c";       // crash, pause
  if (family == "partition") return "#f2a541";  // isolate, split, oneway, bridge
  if (family == "network") return "#f6d55c";    // clog, latency, reset
  if (family == "clock") return "#6fa8dc";      // drift, jump
  if (family == "disk") return "#b48ead";       // eio, bitflip, full, slow sync
  return "#cccccc";
}

namespace {

// Waits for pid up to timeout_ms; kills it past that. Returns the wait status
// or -1 on a timeout.
int wait_bounded(pid_t pid, std::int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

RenderResult render_svg(const std::string& dot_path, const std::string& svg_path,
                        std::int64_t timeout_ms) {
  const char* env = std::getenv("CASTLE_DOT");
  const std::string dot = env != nullptr && *env != '\0' ? env : "dot";
  const std::string out_flag = "-o" + svg_path;
  std::vector<char*> argv = {const_cast<char*>(dot.c_str()), const_cast<char*>("-Tsvg"),
                             const_cast<char*>(out_flag.c_str()),
                             const_cast<char*>(dot_path.c_str()), nullptr};
  // Graphviz warnings go to /dev/null: the run's own output stays readable.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, dot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {false, "cannot run '" + dot + "': " + std::strerror(rc), true};
  const int status = wait_bounded(pid, timeout_ms);
  if (status < 0)
    return {false, "'" + dot + "' took longer than " + std::to_string(timeout_ms) + " ms"};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return {false, "'" + dot + "' failed on " + dot_path};
  return {true, ""};
}

}  // namespace castle::reports
