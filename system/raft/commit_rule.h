#pragma once
// The two decisions Raft's safety rests on, as pure functions so tests can
// pin them down case by case (the Figure 8 case among them).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace castle::raft {

// A voter grants its vote only to a candidate whose log is at least as up
// to date as its own: a later last term, or the same last term and at least
// as long (Raft §5.4.1). This is what keeps committed entries in every
// future leader's log.
inline bool log_up_to_date(std::int64_t candidate_last_term, std::int64_t candidate_last_index,
                           std::int64_t my_last_term, std::int64_t my_last_index) {
  if (candidate_last_term != my_last_term) return candidate_last_term > my_last_term;
  return candidate_last_index >= my_last_index;
}

// Votes needed among `voters`: a strict majority.
inline std::size_t majority(std::size_t voters) { return voters / 2 + 1; }

// The highest index that at least `quorum` of the match indexes reach.
inline std::int64_t quorum_index(std::vector<std::int64_t> match, std::size_t quorum) {
  if (quorum == 0 || quorum > match.size()) return 0;
  std::sort(match.begin(), match.end(), std::greater<>());
  return match[quorum - 1];
}

// A leader moves its commit index to the quorum index only if the entry
// there is of its own term (Raft §5.4.2): an older-term entry on a
// majority can still be overwritten by a leader that never saw it (Figure
// 8), and becomes committed only under an entry of the current term.
// `term_at_quorum` is the term of the entry at `quorum_idx` (nullopt if it
// is compacted, which only happens below the commit index).
inline std::int64_t advance_commit(std::int64_t commit, std::int64_t quorum_idx,
                                   std::optional<std::int64_t> term_at_quorum,
                                   std::int64_t current_term, bool any_term = false) {
  if (quorum_idx <= commit) return commit;
  if (!term_at_quorum) return commit;
  if (*term_at_quorum != current_term && !any_term) return commit;
  return quorum_idx;
}

}  // namespace castle::raft
