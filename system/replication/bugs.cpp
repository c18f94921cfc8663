#include "system/replication/bugs.h"

#include "system/replication/types.h"

namespace castle::replication {

const std::vector<std::pair<std::string, std::string>>& planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {bug_hw_ignores_isr,
       "the leader's high watermark follows its own log end, not the ISR: records count as "
       "committed before any follower has them"},
      {bug_truncate_to_hw,
       "a new follower truncates to its local high watermark instead of asking the leader by "
       "epoch: divergent tails survive, or committed records are cut"},
      {bug_ack_before_isr,
       "acks=all completes as soon as the leader has appended, before the ISR has the records"},
      {bug_isr_expand_early,
       "a follower rejoins the ISR at the high watermark without having caught up in the "
       "current leader epoch"},
      {bug_accept_stale_epoch,
       "the leader serves a follower fetch carrying an older leader epoch and counts its "
       "offset toward the high watermark"},
      {bug_follower_keeps_failed_append,
       "a follower whose sync failed takes it for a transient error: it keeps the batches the "
       "disk gave up and fetches on from its log end, so the leader counts them as replicated"},
  };
  return bugs;
}

std::string to_string(const TopicPartition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

}  // namespace castle::replication
