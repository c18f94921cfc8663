#include "checkers/history.h"

#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

namespace castle::history {

using nlohmann::json;

const char* to_string(OpType t) {
  switch (t) {
    case OpType::invoke: return "invoke";
    case OpType::ok: return "ok";
    case OpType::fail: return "fail";
    case OpType::info: return "info";
  }
  return "?";
}

const Op& History::add(Op op) {
  op.index = static_cast<std::int64_t>(ops_.size());
  ops_.push_back(std::move(op));
  return ops_.back();
}

namespace {

json send_values(const Op& op) {
  json v = json::array();
  for (const auto& s : op.sends) {
    if (s.offset)
      v.push_back(json::array({"send", s.key, json::array({*s.offset, s.value})}));
    else
      v.push_back(json::array({"send", s.key, s.value}));
  }
  return v;
}

json poll_values(const Op& op) {
  if (op.type != OpType::ok) return json::array({json::array({"poll"})});
  json m = json::object();
  for (const auto& [key, pairs] : op.polls) {
    json arr = json::array();
    for (const auto& [o, v] : pairs) arr.push_back(json::array({o, v}));
    m[key] = arr;
  }
  return json::array({json::array({"poll", m})});
}

json op_value(const Op& op) {
  if (op.f == "send") return send_values(op);
  if (op.f == "poll") return poll_values(op);
  if (op.f == "assign" || op.f == "subscribe") return op.keys;
  if (op.f == "commit") return op.commits;
  return nullptr;
}

OpType parse_type(const std::string& s) {
  if (s == "invoke") return OpType::invoke;
  if (s == "ok") return OpType::ok;
  if (s == "fail") return OpType::fail;
  if (s == "info") return OpType::info;
  throw std::runtime_error("unknown type '" + s + "'");
}

void parse_send(const json& item, Op& op) {
  SendValue s;
  s.key = item.at(1).get<std::string>();
  const json& v = item.at(2);
  if (v.is_array()) {
    s.offset = v.at(0).get<std::int64_t>();
    s.value = v.at(1).get<std::int64_t>();
  } else {
    s.value = v.get<std::int64_t>();
  }
  op.sends.push_back(std::move(s));
}

void parse_poll(const json& item, Op& op) {
  if (item.size() < 2) return;
  for (const auto& [key, pairs] : item.at(1).items()) {
    auto& out = op.polls[key];
    for (const auto& p : pairs) out.emplace_back(p.at(0).get<std::int64_t>(), p.at(1).get<std::int64_t>());
  }
}

void parse_value(const json& value, Op& op) {
  if (value.is_null()) return;
  if (op.f == "assign" || op.f == "subscribe") {
    op.keys = value.get<std::vector<std::string>>();
  } else if (op.f == "commit") {
    op.commits = value.get<std::map<std::string, std::int64_t>>();
  } else if (op.f == "send" || op.f == "poll") {
    for (const auto& item : value) {
      const auto tag = item.at(0).get<std::string>();
      if (tag == "send") parse_send(item, op);
      else if (tag == "poll") parse_poll(item, op);
      else throw std::runtime_error("unknown micro-op '" + tag + "'");
    }
  }
}

}  // namespace

std::string op_to_json(const Op& op) {
  json j = {{"index", op.index}, {"time_ns", op.time_ns}, {"process", op.process},
            {"type", to_string(op.type)}, {"f", op.f}, {"value", op_value(op)}};
  if (!op.error.empty()) j["error"] = op.error;
  return j.dump();
}

void History::write_jsonl(std::ostream& out) const {
  for (const auto& op : ops_) out << op_to_json(op) << '\n';
}

std::optional<History> History::read_jsonl(std::istream& in, std::string* error) {
  History h;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    try {
      json j = json::parse(line);
      Op op;
      op.time_ns = j.value("time_ns", std::int64_t{0});
      op.process = j.at("process").get<std::int64_t>();
      op.type = parse_type(j.at("type").get<std::string>());
      op.f = j.at("f").get<std::string>();
      if (j.contains("error") && j["error"].is_string()) op.error = j["error"].get<std::string>();
      parse_value(j.contains("value") ? j["value"] : json(nullptr), op);
      h.add(std::move(op));
    } catch (const std::exception& e) {
      if (error) *error = "line " + std::to_string(line_no) + ": " + e.what();
      return std::nullopt;
    }
  }
  return h;
}

}  // namespace castle::history
