#include "system/protocol/describe_configs.h"

namespace castle::protocol {
namespace {

using Resource = DescribeConfigsRequest::Resource;
using Synonym = DescribeConfigsResponse::Synonym;
using Config = DescribeConfigsResponse::Config;
using Result = DescribeConfigsResponse::Result;

void write_config(Writer& w, const Config& c, std::int16_t version) {
  w.write_string(c.name);
  w.write_nullable_string(c.value);
  w.write_bool(c.read_only);
  if (version == 0) w.write_bool(c.is_default);
  if (version >= 1) w.write_int8(c.config_source);
  w.write_bool(c.is_sensitive);
  if (version >= 1) {
    write_array(w, c.synonyms, [](Writer& w, const Synonym& s) {
      w.write_string(s.name);
      w.write_nullable_string(s.value);
      w.write_int8(s.source);
    });
  }
  if (version >= 3) {
    w.write_int8(c.config_type);
    w.write_nullable_string(c.documentation);
  }
}

Config read_config(Reader& r, std::int16_t version) {
  Config c;
  c.name = r.read_string();
  c.value = r.read_nullable_string();
  c.read_only = r.read_bool();
  if (version == 0) c.is_default = r.read_bool();
  if (version >= 1) c.config_source = r.read_int8();
  c.is_sensitive = r.read_bool();
  if (version >= 1) {
    c.synonyms = read_array(r, [](Reader& r) {
      Synonym s;
      s.name = r.read_string();
      s.value = r.read_nullable_string();
      s.source = r.read_int8();
      return s;
    });
  }
  if (version >= 3) {
    c.config_type = r.read_int8();
    c.documentation = r.read_nullable_string();
  }
  return c;
}

}  // namespace

void encode(const DescribeConfigsRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(DescribeConfigsRequest, version);
  write_array(w, m.resources, [](Writer& w, const Resource& res) {
    w.write_int8(raw(res.resource_type));
    w.write_string(res.resource_name);
    write_nullable_array(w, res.configuration_keys,
                         [](Writer& w, const std::string& k) { w.write_string(k); });
  });
  if (version >= 1) w.write_bool(m.include_synonyms);
  if (version >= 3) w.write_bool(m.include_documentation);
}

template <>
Decoded<DescribeConfigsRequest> decode<DescribeConfigsRequest>(Reader& r, std::int16_t version) {
  DescribeConfigsRequest m;
  if (!accept_version(r, DescribeConfigsRequest::versions, version)) return *r.error();
  m.resources = read_array(r, [](Reader& r) {
    Resource res;
    res.resource_type = ConfigResourceType{r.read_int8()};
    res.resource_name = r.read_string();
    res.configuration_keys = read_nullable_array(r, [](Reader& r) { return r.read_string(); });
    return res;
  });
  if (version >= 1) m.include_synonyms = r.read_bool();
  if (version >= 3) m.include_documentation = r.read_bool();
  return finish(r, std::move(m));
}

void encode(const DescribeConfigsResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(DescribeConfigsResponse, version);
  w.write_int32(m.throttle_time_ms);
  write_array(w, m.results, [version](Writer& w, const Result& res) {
    w.write_int16(raw(res.error_code));
    w.write_nullable_string(res.error_message);
    w.write_int8(raw(res.resource_type));
    w.write_string(res.resource_name);
    write_array(w, res.configs, [version](Writer& w, const Config& c) { write_config(w, c, version); });
  });
}

template <>
Decoded<DescribeConfigsResponse> decode<DescribeConfigsResponse>(Reader& r, std::int16_t version) {
  DescribeConfigsResponse m;
  if (!accept_version(r, DescribeConfigsResponse::versions, version)) return *r.error();
  m.throttle_time_ms = r.read_int32();
  m.results = read_array(r, [version](Reader& r) {
    Result res;
    res.error_code = ErrorCode{r.read_int16()};
    res.error_message = r.read_nullable_string();
    res.resource_type = ConfigResourceType{r.read_int8()};
    res.resource_name = r.read_string();
    res.configs = read_array(r, [version](Reader& r) { return read_config(r, version); });
    return res;
  });
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
