#include "system/broker/broker_config.h"

#include "system/broker/property_parsing.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>

namespace castle::broker {

// ---------------------------------------------------------------------------
// Java properties text.
// ---------------------------------------------------------------------------

namespace {

// A bound on one logical line (after joining continuations), so that a
// runaway file can't make us build an unbounded string.
constexpr std::size_t property_line_bytes_max = 1 << 20;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }



// A line continues onto the next when it ends in an odd number of
// backslashes (an even number is escaped backslashes), as in Java.
bool continues(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

void append_utf8(std::string* out, std::uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Resolves Java's escapes: \t \n \r \f, \uXXXX, and a backslash before any
// other character stands for that character (\= \: \# \\ \ ).
std::optional<std::string> unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    switch (s[i]) {
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        std::uint32_t cp = 0;
        if (s.size() - i < 5) return std::nullopt;  // \u needs four hex digits
        const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 5, cp, 16);
        if (ec != std::errc() || p != s.data() + i + 5) return std::nullopt;
        append_utf8(&out, cp);
        i += 4;
        break;
      }
      default: out.push_back(s[i]);
    }
  }
  return out;
}

// The index of the first unescaped '=' or ':', or else of the first
// unescaped blank (Java's `key value` form); npos if there is none.
std::size_t separator_at(std::string_view line) {
  std::size_t blank = std::string_view::npos;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
      continue;
    }
    if (line[i] == '=' || line[i] == ':') return i;
    if (is_blank(line[i]) && blank == std::string_view::npos) blank = i;
  }
  return blank;
}

bool malformed(PropertyError* error, std::size_t line_number, const std::string& message) {
  if (error) *error = PropertyError{"", "line " + std::to_string(line_number) + ": " + message};
  return false;
}

// Splits one logical line into (name, value) and stores it; the last
// occurrence of a name wins, as in java.util.Properties.
bool parse_line(std::string_view line, std::size_t line_number,
                std::map<std::string, std::string>* out, PropertyError* error) {
  const std::size_t sep = separator_at(line);
  if (sep == std::string_view::npos)
    return malformed(error, line_number, "expected name=value, got '" + std::string(line) + "'");
  auto name = unescape(trim(line.substr(0, sep)));
  std::string_view rest = trim(line.substr(sep + 1));
  // `key  =  value`: a blank separator may be followed by an '=' or ':'.
  if (is_blank(line[sep]) && !rest.empty() && (rest.front() == '=' || rest.front() == ':'))
    rest = trim(rest.substr(1));
  auto value = unescape(rest);
  if (!name || !value) return malformed(error, line_number, "bad escape sequence");
  if (name->empty()) return malformed(error, line_number, "empty property name");
  (*out)[*name] = *value;
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> parse_properties(std::string_view text,
                                                            PropertyError* error) {
  std::map<std::string, std::string> props;
  std::string logical;                        // the line being joined from continuations
  std::size_t logical_start = 0;              // its first line's number, while joining (0: not)
  std::size_t line_number = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (logical_start == 0) {
      // Comments and blank lines count only where a logical line starts.
      if (line.empty() || line.front() == '#' || line.front() == '!') continue;
      logical_start = line_number;
    }
    const bool more = continues(line);
    logical.append(more ? line.substr(0, line.size() - 1) : line);
    if (logical.size() > property_line_bytes_max) {
      malformed(error, logical_start, "line too long");
      return std::errc::invalid_argument;
    }
    if (more) continue;
    if (!parse_line(logical, logical_start, &props, error)) return std::errc::invalid_argument;
    logical.clear();
    logical_start = 0;
  }
  // A continuation on the very last line joins nothing: the line stands.
  if (logical_start != 0 && !parse_line(logical, logical_start, &props, error))
    return std::errc::invalid_argument;
  return props;
}

// ---------------------------------------------------------------------------
// Kafka-named broker properties.
// ---------------------------------------------------------------------------

namespace {

// A listener list: NAME://host:port,... The PLAINTEXT one is the Kafka
// listener (into *plaintext, if present); the others go to *named by name
// (only the controller listener is allowed, which the cluster config
// checks). An empty host binds every interface, as in Kafka; an IPv6 host
// is written in brackets.
bool parse_listener_list(const std::string& name, const std::string& text,
                         std::optional<Address>* plaintext, std::map<std::string, Address>* named,
                         PropertyError* error) {
  std::string_view rest = trim(text);
  if (rest.empty()) return fail(error, name, "needs PLAINTEXT://HOST:PORT");
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto sep = item.find("://");
    if (sep == std::string_view::npos || sep == 0)
      return fail(error, name, "'" + std::string(item) + "' is not NAME://HOST:PORT");
    const std::string proto(item.substr(0, sep));
    if (proto == "SSL" || proto == "SASL_SSL" || proto == "SASL_PLAINTEXT")
      return fail(error, name,
                  "only PLAINTEXT listeners are supported, got '" + proto +
                      "' (write PLAINTEXT://HOST:PORT)");
    std::string host_port(item.substr(sep + 3));
    if (!host_port.empty() && host_port.front() == ':') host_port = "0.0.0.0" + host_port;
    auto a = Address::parse(host_port);
    if (!a) return fail(error, name, "'" + std::string(item) + "' is not " + proto + "://HOST:PORT");
    if (proto == "PLAINTEXT") {
      if (*plaintext) return fail(error, name, "more than one PLAINTEXT listener in '" + text + "'");
      *plaintext = *a;
    } else if (!named->emplace(proto, *a).second) {
      return fail(error, name, "listener " + proto + " named twice");
    }
  }
  return true;
}

bool parse_listener(const std::string& name, const std::string& text, Address* out,
                    PropertyError* error) {
  std::map<std::string, Address> named;
  std::optional<Address> plaintext;
  if (!parse_listener_list(name, text, &plaintext, &named, error)) return false;
  if (plaintext) *out = *plaintext;
  return true;
}

// log.dirs is a comma-separated list in Kafka; one broker here keeps its
// partitions in one directory.
bool parse_log_dir(const std::string& name, const std::string& text, std::string* out,
                   PropertyError* error) {
  const std::string_view t = trim(text);
  if (t.empty()) return fail(error, name, "needs a directory");
  if (t.find(',') != std::string_view::npos)
    return fail(error, name, "Castle supports one log directory, got '" + text + "'");
  *out = std::string(t);
  return true;
}

bool parse_nonempty(const std::string& name, const std::string& text, std::string* out,
                    PropertyError* error) {
  const std::string_view t = trim(text);
  if (t.empty()) return fail(error, name, "must not be empty");
  *out = std::string(t);
  return true;
}

using Setter = std::function<bool(const std::string& name, const std::string& value,
                                  BrokerConfig* c, PropertyError* error)>;

struct BrokerProperty {
  const char* name;
  Setter set;
};

template <class Int>
Setter int_setter(Int BrokerConfig::*field, std::int64_t min) {
  return [field, min](const std::string& n, const std::string& v, BrokerConfig* c,
                      PropertyError* e) { return parse_int(n, v, min, &(c->*field), e); };
}

Setter bool_setter(bool BrokerConfig::*field) {
  return [field](const std::string& n, const std::string& v, BrokerConfig* c, PropertyError* e) {
    return parse_bool(n, v, &(c->*field), e);
  };
}

// The properties the broker itself reads. Order matters where two names set
// one field: Kafka lets log.dirs win over log.dir and node.id over
// broker.id, so the winner comes later.
const std::vector<BrokerProperty>& broker_properties() {
  static const std::vector<BrokerProperty> properties = {
      {"broker.id", int_setter(&BrokerConfig::node_id, 0)},
      {"node.id", int_setter(&BrokerConfig::node_id, 0)},
      {"listeners",
       [](const std::string& n, const std::string& v, BrokerConfig* c, PropertyError* e) {
         return parse_listener(n, v, &c->listen, e);
       }},
      {"advertised.listeners",
       [](const std::string& n, const std::string& v, BrokerConfig* c, PropertyError* e) {
         return parse_listener(n, v, &c->advertised, e);
       }},
      {"log.dir",
       [](const std::string& n, const std::string& v, BrokerConfig* c, PropertyError* e) {
         return parse_log_dir(n, v, &c->log_dir, e);
       }},
      {"log.dirs",
       [](const std::string& n, const std::string& v, BrokerConfig* c, PropertyError* e) {
         return parse_log_dir(n, v, &c->log_dir, e);
       }},
      {"cluster.id",
       [](const std::string& n, const std::string& v, BrokerConfig* c, PropertyError* e) {
         return parse_nonempty(n, v, &c->cluster_id, e);
       }},
      {"num.partitions", int_setter(&BrokerConfig::num_partitions, 1)},
      {"default.replication.factor", int_setter(&BrokerConfig::default_replication_factor, 1)},
      {"auto.create.topics.enable", bool_setter(&BrokerConfig::auto_create_topics)},
      {"delete.topic.enable", bool_setter(&BrokerConfig::delete_topic_enable)},
      {"socket.request.max.bytes", int_setter(&BrokerConfig::socket_request_max_bytes, 1)},
      {"queued.max.requests", int_setter(&BrokerConfig::queued_max_requests, 1)},
      {"message.max.bytes", int_setter(&BrokerConfig::message_max_bytes, 0)},
      {"min.insync.replicas", int_setter(&BrokerConfig::min_insync_replicas, 1)},
      {"log.retention.check.interval.ms",
       int_setter(&BrokerConfig::retention_check_interval_ms, 1)},
      {"connections.max.idle.ms", int_setter(&BrokerConfig::connections_max_idle_ms, 1)},
  };
  return properties;
}

const BrokerProperty* find_broker_property(const std::string& name) {
  for (const auto& p : broker_properties())
    if (name == p.name) return &p;
  return nullptr;
}

// Names in Apache Kafka's stock config/server.properties and
// kraft/server.properties that tune machinery a single Castle broker does
// not have (thread pools, socket buffers, internal topics' replication, the
// ZooKeeper or KRaft controller). They are accepted so that a stock file
// works, and reported so that nobody believes they took effect.
constexpr std::string_view ignored_names[] = {
    "num.network.threads",
    "num.io.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "num.recovery.threads.per.data.dir",
    "offsets.topic.replication.factor",
    "inter.broker.listener.name",
    "listener.security.protocol.map",
    "group.initial.rebalance.delay.ms",
};
constexpr std::string_view ignored_prefixes[] = {
    "transaction.state.log.",
    "controller.",
    "zookeeper.",
};

}  // namespace

bool is_ignored_broker_property(const std::string& name) {
  if (is_cluster_property(name)) return false;
  for (auto n : ignored_names)
    if (name == n) return true;
  for (auto p : ignored_prefixes)
    if (name.size() > p.size() && std::string_view(name).substr(0, p.size()) == p) return true;
  return false;
}

namespace {

// advertised.listeners defaults to the listener; an address that binds
// every interface is no address a client can connect to, so loopback is
// advertised instead.
Address default_advertised(const Address& listen) {
  Address a = listen;
  if (a.host == "0.0.0.0") a.host = "127.0.0.1";
  if (a.host == "::") a.host = "::1";
  return a;
}

bool apply_log(const std::map<std::string, std::string>& props, BrokerConfig* next,
               PropertyError* error) {
  std::map<std::string, std::string> log_props;
  for (const auto& [name, value] : props)
    if (storage::is_log_property(name)) log_props[name] = std::string(trim(value));
  storage::ConfigError log_error;
  if (!storage::apply_log_properties(log_props, &next->log, &log_error))
    return fail(error, log_error.property, log_error.message);
  return true;
}

// The cluster half (cluster_config.h), which needs the listeners other
// than PLAINTEXT; a broker must have a PLAINTEXT listener if listeners is given.
bool apply_cluster(const std::map<std::string, std::string>& props, BrokerConfig* next,
                   PropertyError* error) {
  std::map<std::string, Address> named;
  std::optional<Address> plaintext;
  auto listeners = props.find("listeners");
  if (listeners != props.end() &&
      !parse_listener_list("listeners", listeners->second, &plaintext, &named, error))
    return false;
  if (!apply_cluster_properties(props, named, next->node_id, &next->cluster, error)) return false;
  if (listeners != props.end() && next->cluster.broker_role && !plaintext)
    return fail(error, "listeners", "a broker needs a PLAINTEXT://HOST:PORT listener");
  return true;
}

}  // namespace

// All-or-nothing: on an error the config is left as it was.
bool apply_broker_properties(const std::map<std::string, std::string>& props,
                             BrokerConfig* config, PropertyError* error) {
  CASTLE_ASSERT(config != nullptr, "apply_broker_properties needs a config");
  for (const auto& [name, value] : props) {
    if (find_broker_property(name) || storage::is_log_property(name) ||
        is_cluster_property(name) || is_ignored_broker_property(name))
      continue;
    return fail(error, name, "unknown property");
  }
  BrokerConfig next = *config;
  for (const auto& p : broker_properties()) {
    auto it = props.find(p.name);
    if (it != props.end() && !p.set(p.name, it->second, &next, error)) return false;
  }
  if (!apply_log(props, &next, error)) return false;
  if (!apply_cluster(props, &next, error)) return false;
  if (props.count("advertised.listeners") == 0) next.advertised = default_advertised(next.listen);
  CASTLE_ASSERT(!next.log_dir.empty(), "log.dirs can't be empty");
  *config = std::move(next);
  return true;
}

namespace {

std::string listener_text(const Address& a, const char* name = "PLAINTEXT") {
  const bool v6 = a.host.find(':') != std::string::npos;
  return std::string(name) + "://" + (v6 ? "[" + a.host + "]" : a.host) + ":" +
         std::to_string(a.port);
}

std::string listeners_text(const BrokerConfig& c) {
  std::string text = listener_text(c.listen);
  if (c.cluster.controller_listen)
    text += "," + listener_text(*c.cluster.controller_listen, c.cluster.controller_listener_name.c_str());
  return text;
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

}  // namespace

std::vector<std::pair<std::string, std::string>> describe_broker_config(const BrokerConfig& c) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"advertised.listeners", listener_text(c.advertised)},
      {"auto.create.topics.enable", bool_text(c.auto_create_topics)},
      {"broker.id", std::to_string(c.node_id)},
      {"cluster.id", c.cluster_id},
      {"connections.max.idle.ms", std::to_string(c.connections_max_idle_ms)},
      {"default.replication.factor", std::to_string(c.default_replication_factor)},
      {"delete.topic.enable", bool_text(c.delete_topic_enable)},
      {"listeners", listeners_text(c)},
      {"log.dirs", c.log_dir},
      {"log.flush.interval.messages", std::to_string(c.log.flush_interval_messages)},
      {"log.flush.interval.ms", std::to_string(c.log.flush_interval_ms)},
      {"log.index.interval.bytes", std::to_string(c.log.index_interval_bytes)},
      {"log.index.size.max.bytes", std::to_string(c.log.segment_index_bytes)},
      {"log.retention.bytes", std::to_string(c.log.retention_bytes)},
      {"log.retention.check.interval.ms", std::to_string(c.retention_check_interval_ms)},
      {"log.retention.ms", std::to_string(c.log.retention_ms)},
      {"log.roll.ms", std::to_string(c.log.roll_ms)},
      {"log.segment.bytes", std::to_string(c.log.segment_bytes)},
      {"message.max.bytes", std::to_string(c.message_max_bytes)},
      {"min.insync.replicas", std::to_string(c.min_insync_replicas)},
      {"node.id", std::to_string(c.node_id)},
      {"num.partitions", std::to_string(c.num_partitions)},
      {"queued.max.requests", std::to_string(c.queued_max_requests)},
      {"socket.request.max.bytes", std::to_string(c.socket_request_max_bytes)},
  };
  for (auto& entry : describe_cluster_config(c.cluster)) out.push_back(std::move(entry));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace castle::broker
