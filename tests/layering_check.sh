#!/usr/bin/env bash
# The rule that makes simulation possible: nothing under system/ reaches the
# OS, a clock, a thread or unseeded randomness except through
# system/runtime/ (which itself must stay OS-free: the OS side is real/).
set -u
cd "$(dirname "$0")/.."
pattern='#include *<(thread|mutex|future|random|condition_variable|sys/[a-z_]+\.h|unistd\.h|fcntl\.h|netinet/[a-z_]+\.h|arpa/inet\.h|netdb\.h|pthread\.h|ctime|time\.h)>|std::chrono::(steady|system|high_resolution)_clock|std::thread|std::random_device|[^_a-z]rand\(\)|getenv\(|#include *"(sim|real)/'
bad=$(grep -rnE "$pattern" system | grep -v '^system/runtime/random.h:.*<random>')
if [ -n "$bad" ]; then
  echo "layering violations under system/:"
  echo "$bad"
  exit 1
fi
echo "system/ reaches the world only through system/runtime"
