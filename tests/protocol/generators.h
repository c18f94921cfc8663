#pragma once
// RapidCheck generators for every message of the codec, per version: a
// field the version does not carry is left at the struct's default, so that
// encode -> decode gives back exactly the generated value. The version
// conditions here are written from Kafka's JSON message definitions
// independently of the codec, so that a slip on either side shows up as a
// round-trip failure or a layout-test failure.
//
// Draws with operator* and so must run inside a RapidCheck property.

#include <rapidcheck.h>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "system/protocol/messages.h"

namespace castle::protocol::testing {

template <class T>
T arb() {
  return *rc::gen::arbitrary<T>();
}

// A strong type (enum class) with an arbitrary raw value.
template <class E>
E arb_id() {
  return E{arb<std::underlying_type_t<E>>()};
}

inline std::string arb_string() {
  return *rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127));
}

inline std::optional<std::string> arb_nullable_string() {
  if (*rc::gen::weightedElement<bool>({{1, true}, {4, false}})) return std::nullopt;
  return arb_string();
}

inline std::optional<Bytes> arb_nullable_bytes() {
  if (*rc::gen::weightedElement<bool>({{1, true}, {4, false}})) return std::nullopt;
  return arb<Bytes>();
}

// A short vector of f() values: nesting stays small and tests stay fast.
template <class F>
auto arb_vector(F f) {
  std::vector<decltype(f())> out;
  const int n = *rc::gen::inRange(0, 4);
  for (int i = 0; i < n; ++i) out.push_back(f());
  return out;
}

template <class F>
auto arb_nullable_vector(F f) -> std::optional<decltype(arb_vector(f))> {
  if (*rc::gen::weightedElement<bool>({{1, true}, {4, false}})) return std::nullopt;
  return arb_vector(f);
}

template <class E>
std::vector<E> arb_ids() {
  return arb_vector([] { return arb_id<E>(); });
}

inline ApiVersionsRequest gen_api_versions_request(std::int16_t v) {
  ApiVersionsRequest m;
  if (v >= 3) {
    m.client_software_name = arb_string();
    m.client_software_version = arb_string();
  }
  return m;
}

inline ApiVersionsResponse gen_api_versions_response(std::int16_t v) {
  ApiVersionsResponse m;
  m.error_code = arb_id<ErrorCode>();
  m.api_keys = arb_vector([] {
    return ApiVersionsResponse::ApiVersion{arb_id<ApiKey>(), arb<std::int16_t>(), arb<std::int16_t>()};
  });
  if (v >= 1) m.throttle_time_ms = arb<std::int32_t>();
  return m;
}

inline MetadataRequest gen_metadata_request(std::int16_t v) {
  MetadataRequest m;
  m.topics = v >= 1 ? arb_nullable_vector(arb_string) : arb_vector(arb_string);
  if (v >= 4) m.allow_auto_topic_creation = arb<bool>();
  if (v >= 8) {
    m.include_cluster_authorized_operations = arb<bool>();
    m.include_topic_authorized_operations = arb<bool>();
  }
  return m;
}

inline MetadataResponse::Partition gen_metadata_partition(std::int16_t v) {
  MetadataResponse::Partition p;
  p.error_code = arb_id<ErrorCode>();
  p.partition_index = arb_id<PartitionId>();
  p.leader_id = arb_id<BrokerId>();
  if (v >= 7) p.leader_epoch = arb_id<LeaderEpoch>();
  p.replica_nodes = arb_ids<BrokerId>();
  p.isr_nodes = arb_ids<BrokerId>();
  if (v >= 5) p.offline_replicas = arb_ids<BrokerId>();
  return p;
}

inline MetadataResponse gen_metadata_response(std::int16_t v) {
  MetadataResponse m;
  if (v >= 3) m.throttle_time_ms = arb<std::int32_t>();
  m.brokers = arb_vector([v] {
    MetadataResponse::Broker b;
    b.node_id = arb_id<BrokerId>();
    b.host = arb_string();
    b.port = arb<std::int32_t>();
    if (v >= 1) b.rack = arb_nullable_string();
    return b;
  });
  if (v >= 2) m.cluster_id = arb_nullable_string();
  if (v >= 1) m.controller_id = arb_id<BrokerId>();
  m.topics = arb_vector([v] {
    MetadataResponse::Topic t;
    t.error_code = arb_id<ErrorCode>();
    t.name = arb_string();
    if (v >= 1) t.is_internal = arb<bool>();
    t.partitions = arb_vector([v] { return gen_metadata_partition(v); });
    if (v >= 8) t.topic_authorized_operations = arb<std::int32_t>();
    return t;
  });
  if (v >= 8) m.cluster_authorized_operations = arb<std::int32_t>();
  return m;
}

inline ProduceRequest gen_produce_request(std::int16_t v) {
  ProduceRequest m;
  if (v >= 3) m.transactional_id = arb_nullable_string();
  m.acks = arb<std::int16_t>();
  m.timeout_ms = arb<std::int32_t>();
  m.topics = arb_vector([] {
    ProduceRequest::Topic t;
    t.name = arb_string();
    t.partitions = arb_vector([] {
      return ProduceRequest::Partition{arb_id<PartitionId>(), arb_nullable_bytes()};
    });
    return t;
  });
  return m;
}

inline ProduceResponse::Partition gen_produce_partition(std::int16_t v) {
  ProduceResponse::Partition p;
  p.index = arb_id<PartitionId>();
  p.error_code = arb_id<ErrorCode>();
  p.base_offset = arb_id<Offset>();
  if (v >= 2) p.log_append_time_ms = arb<std::int64_t>();
  if (v >= 5) p.log_start_offset = arb_id<Offset>();
  if (v >= 8) {
    p.record_errors = arb_vector([] {
      return ProduceResponse::RecordError{arb<std::int32_t>(), arb_nullable_string()};
    });
    p.error_message = arb_nullable_string();
  }
  return p;
}

inline ProduceResponse gen_produce_response(std::int16_t v) {
  ProduceResponse m;
  m.topics = arb_vector([v] {
    ProduceResponse::Topic t;
    t.name = arb_string();
    t.partitions = arb_vector([v] { return gen_produce_partition(v); });
    return t;
  });
  if (v >= 1) m.throttle_time_ms = arb<std::int32_t>();
  return m;
}

inline FetchRequest::Partition gen_fetch_request_partition(std::int16_t v) {
  FetchRequest::Partition p;
  p.partition = arb_id<PartitionId>();
  if (v >= 9) p.current_leader_epoch = arb_id<LeaderEpoch>();
  p.fetch_offset = arb_id<Offset>();
  if (v >= 5) p.log_start_offset = arb_id<Offset>();
  p.partition_max_bytes = arb<std::int32_t>();
  return p;
}

inline FetchRequest gen_fetch_request(std::int16_t v) {
  FetchRequest m;
  m.replica_id = arb_id<BrokerId>();
  m.max_wait_ms = arb<std::int32_t>();
  m.min_bytes = arb<std::int32_t>();
  if (v >= 3) m.max_bytes = arb<std::int32_t>();
  if (v >= 4) m.isolation_level = arb<std::int8_t>();
  if (v >= 7) {
    m.session_id = arb<std::int32_t>();
    m.session_epoch = arb<std::int32_t>();
  }
  m.topics = arb_vector([v] {
    FetchRequest::Topic t;
    t.topic = arb_string();
    t.partitions = arb_vector([v] { return gen_fetch_request_partition(v); });
    return t;
  });
  if (v >= 7) {
    m.forgotten_topics_data = arb_vector([] {
      return FetchRequest::ForgottenTopic{arb_string(), arb_ids<PartitionId>()};
    });
  }
  if (v >= 11) m.rack_id = arb_string();
  return m;
}

inline FetchResponse::Partition gen_fetch_response_partition(std::int16_t v) {
  FetchResponse::Partition p;
  p.partition_index = arb_id<PartitionId>();
  p.error_code = arb_id<ErrorCode>();
  p.high_watermark = arb_id<Offset>();
  if (v >= 4) p.last_stable_offset = arb_id<Offset>();
  if (v >= 5) p.log_start_offset = arb_id<Offset>();
  if (v >= 4) {
    p.aborted_transactions = arb_nullable_vector([] {
      return FetchResponse::AbortedTransaction{arb_id<ProducerId>(), arb_id<Offset>()};
    });
  }
  if (v >= 11) p.preferred_read_replica = arb_id<BrokerId>();
  p.records = arb_nullable_bytes();
  return p;
}

inline FetchResponse gen_fetch_response(std::int16_t v) {
  FetchResponse m;
  if (v >= 1) m.throttle_time_ms = arb<std::int32_t>();
  if (v >= 7) {
    m.error_code = arb_id<ErrorCode>();
    m.session_id = arb<std::int32_t>();
  }
  m.topics = arb_vector([v] {
    FetchResponse::Topic t;
    t.topic = arb_string();
    t.partitions = arb_vector([v] { return gen_fetch_response_partition(v); });
    return t;
  });
  return m;
}

inline ListOffsetsRequest gen_list_offsets_request(std::int16_t v) {
  ListOffsetsRequest m;
  m.replica_id = arb_id<BrokerId>();
  if (v >= 2) m.isolation_level = arb<std::int8_t>();
  m.topics = arb_vector([v] {
    ListOffsetsRequest::Topic t;
    t.name = arb_string();
    t.partitions = arb_vector([v] {
      ListOffsetsRequest::Partition p;
      p.partition_index = arb_id<PartitionId>();
      if (v >= 4) p.current_leader_epoch = arb_id<LeaderEpoch>();
      p.timestamp = arb<std::int64_t>();
      if (v == 0) p.max_num_offsets = arb<std::int32_t>();
      return p;
    });
    return t;
  });
  return m;
}

inline ListOffsetsResponse gen_list_offsets_response(std::int16_t v) {
  ListOffsetsResponse m;
  if (v >= 2) m.throttle_time_ms = arb<std::int32_t>();
  m.topics = arb_vector([v] {
    ListOffsetsResponse::Topic t;
    t.name = arb_string();
    t.partitions = arb_vector([v] {
      ListOffsetsResponse::Partition p;
      p.partition_index = arb_id<PartitionId>();
      p.error_code = arb_id<ErrorCode>();
      if (v == 0) p.old_style_offsets = arb_ids<Offset>();
      if (v >= 1) {
        p.timestamp = arb<std::int64_t>();
        p.offset = arb_id<Offset>();
      }
      if (v >= 4) p.leader_epoch = arb_id<LeaderEpoch>();
      return p;
    });
    return t;
  });
  return m;
}

inline CreateTopicsRequest gen_create_topics_request(std::int16_t v) {
  CreateTopicsRequest m;
  m.topics = arb_vector([] {
    CreateTopicsRequest::Topic t;
    t.name = arb_string();
    t.num_partitions = arb<std::int32_t>();
    t.replication_factor = arb<std::int16_t>();
    t.assignments = arb_vector([] {
      return CreateTopicsRequest::Assignment{arb_id<PartitionId>(), arb_ids<BrokerId>()};
    });
    t.configs = arb_vector([] {
      return CreateTopicsRequest::Config{arb_string(), arb_nullable_string()};
    });
    return t;
  });
  m.timeout_ms = arb<std::int32_t>();
  if (v >= 1) m.validate_only = arb<bool>();
  return m;
}

inline CreateTopicsResponse gen_create_topics_response(std::int16_t v) {
  CreateTopicsResponse m;
  if (v >= 2) m.throttle_time_ms = arb<std::int32_t>();
  m.topics = arb_vector([v] {
    CreateTopicsResponse::Topic t;
    t.name = arb_string();
    t.error_code = arb_id<ErrorCode>();
    if (v >= 1) t.error_message = arb_nullable_string();
    return t;
  });
  return m;
}

inline DeleteTopicsRequest gen_delete_topics_request(std::int16_t) {
  DeleteTopicsRequest m;
  m.topic_names = arb_vector(arb_string);
  m.timeout_ms = arb<std::int32_t>();
  return m;
}

inline DeleteTopicsResponse gen_delete_topics_response(std::int16_t v) {
  DeleteTopicsResponse m;
  if (v >= 1) m.throttle_time_ms = arb<std::int32_t>();
  m.responses = arb_vector([] {
    return DeleteTopicsResponse::Result{arb_string(), arb_id<ErrorCode>()};
  });
  return m;
}

inline DescribeConfigsRequest gen_describe_configs_request(std::int16_t v) {
  DescribeConfigsRequest m;
  m.resources = arb_vector([] {
    DescribeConfigsRequest::Resource r;
    r.resource_type = arb_id<ConfigResourceType>();
    r.resource_name = arb_string();
    r.configuration_keys = arb_nullable_vector(arb_string);
    return r;
  });
  if (v >= 1) m.include_synonyms = arb<bool>();
  if (v >= 3) m.include_documentation = arb<bool>();
  return m;
}

inline DescribeConfigsResponse::Config gen_describe_configs_config(std::int16_t v) {
  DescribeConfigsResponse::Config c;
  c.name = arb_string();
  c.value = arb_nullable_string();
  c.read_only = arb<bool>();
  if (v == 0) c.is_default = arb<bool>();
  if (v >= 1) c.config_source = arb<std::int8_t>();
  c.is_sensitive = arb<bool>();
  if (v >= 1) {
    c.synonyms = arb_vector([] {
      return DescribeConfigsResponse::Synonym{arb_string(), arb_nullable_string(), arb<std::int8_t>()};
    });
  }
  if (v >= 3) {
    c.config_type = arb<std::int8_t>();
    c.documentation = arb_nullable_string();
  }
  return c;
}

inline DescribeConfigsResponse gen_describe_configs_response(std::int16_t v) {
  DescribeConfigsResponse m;
  m.throttle_time_ms = arb<std::int32_t>();
  m.results = arb_vector([v] {
    DescribeConfigsResponse::Result r;
    r.error_code = arb_id<ErrorCode>();
    r.error_message = arb_nullable_string();
    r.resource_type = arb_id<ConfigResourceType>();
    r.resource_name = arb_string();
    r.configs = arb_vector([v] { return gen_describe_configs_config(v); });
    return r;
  });
  return m;
}

inline InitProducerIdRequest gen_init_producer_id_request(std::int16_t) {
  return InitProducerIdRequest{arb_nullable_string(), arb<std::int32_t>()};
}

inline InitProducerIdResponse gen_init_producer_id_response(std::int16_t) {
  return InitProducerIdResponse{arb<std::int32_t>(), arb_id<ErrorCode>(), arb_id<ProducerId>(),
                                arb_id<ProducerEpoch>()};
}

inline OffsetForLeaderEpochRequest gen_offset_for_leader_epoch_request(std::int16_t v) {
  OffsetForLeaderEpochRequest m;
  if (v >= 3) m.replica_id = arb_id<BrokerId>();
  m.topics = arb_vector([v] {
    OffsetForLeaderEpochRequest::Topic t;
    t.topic = arb_string();
    t.partitions = arb_vector([v] {
      OffsetForLeaderEpochRequest::Partition p;
      p.partition = arb_id<PartitionId>();
      if (v >= 2) p.current_leader_epoch = arb_id<LeaderEpoch>();
      p.leader_epoch = arb_id<LeaderEpoch>();
      return p;
    });
    return t;
  });
  return m;
}

inline OffsetForLeaderEpochResponse gen_offset_for_leader_epoch_response(std::int16_t v) {
  OffsetForLeaderEpochResponse m;
  if (v >= 2) m.throttle_time_ms = arb<std::int32_t>();
  m.topics = arb_vector([v] {
    OffsetForLeaderEpochResponse::Topic t;
    t.topic = arb_string();
    t.partitions = arb_vector([v] {
      OffsetForLeaderEpochResponse::Partition p;
      p.error_code = arb_id<ErrorCode>();
      p.partition = arb_id<PartitionId>();
      if (v >= 1) p.leader_epoch = arb_id<LeaderEpoch>();
      p.end_offset = arb_id<Offset>();
      return p;
    });
    return t;
  });
  return m;
}

// The generators of each API, in the order of Request and Response.
inline Request gen_request(std::size_t api, std::int16_t v) {
  switch (api) {
    case 0: return gen_produce_request(v);
    case 1: return gen_fetch_request(v);
    case 2: return gen_list_offsets_request(v);
    case 3: return gen_metadata_request(v);
    case 4: return gen_api_versions_request(v);
    case 5: return gen_create_topics_request(v);
    case 6: return gen_delete_topics_request(v);
    case 7: return gen_init_producer_id_request(v);
    case 8: return gen_offset_for_leader_epoch_request(v);
    case 9: return gen_describe_configs_request(v);
  }
  RC_FAIL("no generator for this API index");
}

inline Response gen_response(std::size_t api, std::int16_t v) {
  switch (api) {
    case 0: return gen_produce_response(v);
    case 1: return gen_fetch_response(v);
    case 2: return gen_list_offsets_response(v);
    case 3: return gen_metadata_response(v);
    case 4: return gen_api_versions_response(v);
    case 5: return gen_create_topics_response(v);
    case 6: return gen_delete_topics_response(v);
    case 7: return gen_init_producer_id_response(v);
    case 8: return gen_offset_for_leader_epoch_response(v);
    case 9: return gen_describe_configs_response(v);
  }
  RC_FAIL("no generator for this API index");
}

static_assert(std::variant_size_v<Request> == 10, "a new API needs its generators here");

}  // namespace castle::protocol::testing
