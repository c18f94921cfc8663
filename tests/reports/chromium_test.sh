#!/usr/bin/env bash
# Checks that a run's report opens in headless Chromium from file:// (no
# server, no network) and shows every picture. How: `castle sim --out DIR`
# writes the folder; Chromium loads DIR/index.html with --dump-dom; the page's
# inline script has, once everything loaded, set on <body>
#   data-pictures-status="ok" and data-pictures-loaded == data-pictures-expected
# (every <img class="picture"> with a nonzero natural size), and the page
# says data-pictures-unrendered="0" (dot rendered all its pictures). One
# passing and one failing run are checked; a screenshot of each is kept in
# the work folder for a human to look at.
#
# Usage: chromium_test.sh CASTLE_BINARY SOURCE_DIR
# Exits 77 (ctest SKIP) if chromium is not installed.
set -euo pipefail

castle=${1:?usage: chromium_test.sh CASTLE_BINARY SOURCE_DIR}
source_dir=${2:?usage: chromium_test.sh CASTLE_BINARY SOURCE_DIR}
timeout_s=${CASTLE_CHROMIUM_TIMEOUT_S:-60}

browser=""
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium, or scripts/install-deps.sh)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work/profile"' EXIT
echo "work folder: $work"

# Chromium flags: no sandbox (root in containers), nothing that reaches the
# network, a throwaway profile, and virtual time so the page's load handler
# has run before the DOM is dumped.
chromium_run() {
  timeout "$timeout_s" "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --user-data-dir="$work/profile" --virtual-time-budget=5000 "$@" \
    2>>"$work/chromium.log"
}

check_report() {
  local scenario=$1 name=$2
  local dir="$work/$name"
  local code=0
  "$castle" sim "$source_dir/scenarios/$scenario" --seed 1 --out "$dir" --quiet >"$work/$name.out" || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ] && [ "$code" -ne 3 ]; then
    echo "FAIL: castle sim $scenario exited $code"; cat "$work/$name.out"; return 1
  fi
  chromium_run --dump-dom "file://$dir/index.html" >"$work/$name.dom.html"
  chromium_run --window-size=1400,3000 --screenshot="$work/$name.png" "file://$dir/index.html" >/dev/null
  local body
  body=$(grep -o '<body[^>]*>' "$work/$name.dom.html" | head -1)
  echo "$name: $body"
  local expected loaded
  expected=$(sed -n 's/.*data-pictures-expected="\([0-9]*\)".*/\1/p' <<<"$body")
  loaded=$(sed -n 's/.*data-pictures-loaded="\([0-9]*\)".*/\1/p' <<<"$body")
  if ! grep -q 'data-pictures-status="ok"' <<<"$body" || [ "${expected:-0}" -lt 5 ] ||
     [ "$expected" != "$loaded" ] || ! grep -q 'data-pictures-unrendered="0"' <<<"$body"; then
    echo "FAIL: $name: the report's pictures did not all render (see $work/$name.dom.html, $work/chromium.log)"
    return 1
  fi
  for f in timeline sequence cluster throughput latency; do
    grep -q "src=\"$f.svg\"" "$work/$name.dom.html" || { echo "FAIL: $name: no $f.svg picture"; return 1; }
  done
  [ -s "$work/$name.png" ] || { echo "FAIL: $name: no screenshot"; return 1; }
}

start=$(date +%s)
check_report logsvc-faults.json pass
check_report logsvc-planted-ack-before-sync.json safety
grep -q 'First violation' "$work/safety.dom.html" || { echo "FAIL: the failing run names no violation"; exit 1; }
echo "PASS: both reports open in $browser and show their pictures ($(( $(date +%s) - start )) s)"
