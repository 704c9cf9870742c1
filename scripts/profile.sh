#!/usr/bin/env bash
# CPU profile under a saturated 1 KB run at concurrency 16 (find costs before changing code), through
# scripts/bench.sh floor:
#   scripts/profile.sh [OUTPUT_DIR]            the host as it runs in production (every default on, logs at Information)
#   scripts/profile.sh --floor [OUTPUT_DIR]    the MassTransit floor: the same work as a plain MassTransit consumer
#   scripts/profile.sh --bridge [OUTPUT_DIR]   the raw bridge (RabbitMQ.Client + HttpClient by hand, no MassTransit)
#   scripts/profile.sh --ingest [OUTPUT_DIR]   POST /ingest: every instance of the host and of its floor (two each), each
#                                              for 10 s of its own segment of scripts/bench.sh ingest (one round of 150,000
#                                              registrations each), at 999 Hz, and the share of the first host's samples
#                                              inside each part of /ingest
#   extra arguments after the directory go to bench.sh floor (bench.sh ingest for --ingest), e.g. --host-env DELIVERY_LOG=false
# Needs Linux perf (/usr/bin/perf) and root. The process runs with perf maps on and W^X off (so perf can name
# JIT-compiled methods); perf samples it for 15 s after its warm-up (tiered JIT done), and the report groups self time
# by assembly; the bench's own line gives the process's CPU per message in that run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=host
case "${1:-}" in
  --bridge) target=bridge; shift ;;
  --floor) target=floor; shift ;;
  --ingest) target=ingest; shift ;;
esac
out=${1:-artifacts/profile/$target}
shift || true
mkdir -p "$out"
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
# Self time of one recording, by assembly (managed code, named through the perf map) or library.
report() {
  perf report -i "$1" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -E '^\s+[0-9.]+%' > "$1.self.txt"
  python3 - "$1.self.txt" <<'PY'
import collections, re, sys
total = collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r'\s+([0-9.]+)%\s+(\[JIT\] tid \d+|\S+)\s+(.*)', line)
    if not m:
        continue
    share, dso, symbol = float(m.group(1)), m.group(2), m.group(3)
    if dso.startswith('[JIT]'):
        a = re.search(r'\[(?!\.\])([A-Za-z][A-Za-z0-9_.]+)\]\s', symbol)
        key = a.group(1) if a else ('runtime stubs' if 'stub' in symbol else 'JIT, unnamed')
        key = 'System.Text.Json' if key.startswith('System.Text.Json') else 'MassTransit' if key.startswith('MassTransit') else key
    else:
        key = dso
    total[key] += share
print("share of CPU (self time), by assembly or library:")
for key, share in total.most_common(20):
    print(f"  {share:6.2f}%  {key}")
PY
}

if [ "$target" = ingest ]; then
  # Every process is started and warmed up first, then measured in one segment each; each is recorded once, while its
  # own segment runs (more than a quarter of a core in the second before).
  bash scripts/bench.sh ingest --rounds 1 --floor-only true --count 150000 --only floor "$@" > "$out/bench.txt" 2>&1 &
  bench=$!
  declare -A recorded=()
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
  while kill -0 "$bench" 2>/dev/null; do
    if [ "$(grep -c '^  started' "$out/bench.txt" 2>/dev/null || true)" -ge 4 ]; then
      for pid in $(pgrep -f "ingest-floor|Hokusai.Bus.Host.dll" || true); do
        [ -z "${recorded[$pid]:-}" ] || continue
        before=$(ticks "$pid") || continue
        sleep 1
        after=$(ticks "$pid") || continue
        [ $((after - before)) -gt 25 ] || continue
        name=$(tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q Host.dll && echo "host-$pid" || echo "floor-$pid")
        recorded[$pid]=1
        perf record -F 999 -g -p "$pid" -o "$out/$name.data" -- sleep 10 > "$out/$name.log" 2>&1 || true
      done
    fi
    sleep 0.5
  done
  wait "$bench" || true
  for data in "$out"/*.data; do
    echo "== $(basename "$data" .data)"
    report "$data"
  done
  echo "share of the host's samples inside each part of /ingest (inclusive):"
  host=$(ls "$out"/host-*.data | head -1)
  perf report -i "$host" --children --sort symbol --stdio -g none 2>/dev/null > "$out/host.children.txt"
  python3 - "$out/host.children.txt" <<'PY'
import re, sys
parts = [("IngestEndpoint+<HandleAsync>", "the endpoint, all of it"), ("IngestEndpoint+<PublishAsync>", "its publish and answer"),
         ("IngestBody::Read", "the body's shape and validation"), ("ModelRegisteredJson::TryDeserialize", "  of which the contracts' reader"),
         ("EventTopLevel::Read", "  of which the shape"), ("SignedRequestReader+<ReadAsync>", "reading and verifying the body"),
         ("HokusaiWebhook::Verify", "  of which the signature"), ("IngestEndpoint::Write", "the JSON answer"),
         ("DeliveryLogWriter+<RunAsync>", "the delivery log's writer")]
share = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s+([0-9.]+)%\s+[0-9.]+%\s+\[.\]\s+(.*)', line)
    if m and 'AsyncStateMachineBox' not in m.group(2):
        for key, _ in parts:
            if key in m.group(2):
                share[key] = max(share.get(key, 0.0), float(m.group(1)))
for key, what in parts:
    print(f"  {share.get(key, 0.0):6.2f}%  {what} ({key})")
PY
  grep -E '^\s+round ' "$out/bench.txt" || echo "(see $out/bench.txt)"
  exit 0
fi

case "$target" in
  host) pattern="Hokusai.Bus.Host.dll" ;;
  floor) pattern="Hokusai.Bus.Benchmarks(.dll)? floor-consumer" ;;
  bridge) pattern="Hokusai.Bus.Benchmarks(.dll)? bridge" ;;
esac
bash scripts/bench.sh floor --rounds 1 --only "$target" --count 250000 \
  --host-env DOTNET_PerfMapEnabled=1 --host-env DOTNET_EnableWriteXorExecute=0 "$@" > "$out/bench.txt" 2>&1 &
bench=$!
warm=15
pid=""
for _ in $(seq 1 1500); do
  pid=$(pgrep -f "$pattern" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.2
done
[ -n "$pid" ] || { echo "profile.sh: no $target process appeared" >&2; kill "$bench"; exit 1; }
sleep "$warm"
perf record -F 499 -g -p "$pid" -o "$out/perf.data" -- sleep 15 > "$out/perf.log" 2>&1
# The rest of the run is not needed: stop the whole benchmark, not only its bash.
pkill -f "Hokusai.Bus.Benchmarks" 2>/dev/null || true
kill "$bench" 2>/dev/null || true
pkill -f "Hokusai.Bus.Host.dll" 2>/dev/null || true
wait "$bench" || true
report "$out/perf.data"
grep -E '^\s+round ' "$out/bench.txt" | head -3 || echo "(stopped before the run ended: see $out/bench.txt)"
