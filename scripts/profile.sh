#!/usr/bin/env bash
# CPU profile under the saturated 1 KB run at WEBHOOK_CONCURRENCY=16 (issue #14: find costs before changing code).
#   scripts/profile.sh [OUTPUT_DIR]            the host
#   scripts/profile.sh --bridge [OUTPUT_DIR]   the benchmark's raw bridge (RabbitMQ.Client + HttpClient by hand, no
#                                              MassTransit): the same grouping, to compare per assembly
# Needs Linux perf (/usr/bin/perf) and root. The process runs with perf maps on and W^X off (so perf can name
# JIT-compiled methods); perf samples it for 15 s after its warm-up (tiered JIT done), and the report groups self time
# by assembly; the bench's own line gives the process's CPU per message in that run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=host
if [ "${1:-}" = --bridge ]; then
  target=bridge
  shift
fi
out=${1:-artifacts/profile/$target}
mkdir -p "$out"
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
if [ "$target" = host ]; then
  bash scripts/bench.sh --scenarios sweep --sweep 16 --count 250000 --no-baselines \
    --host-env DOTNET_PerfMapEnabled=1 --host-env DOTNET_EnableWriteXorExecute=0 > "$out/bench.txt" 2>&1 &
  pattern="Hokusai.Bus.Host.dll"
  warm=20
else
  # The bridge is measured among the baselines; a large count keeps it busy long enough to sample.
  bash scripts/bench.sh --scenarios sweep --sweep 16 --count 200000 --peer-seconds 1 > "$out/bench.txt" 2>&1 &
  pattern="Hokusai.Bus.Benchmarks(.dll)? bridge"
  warm=10
fi
bench=$!
pid=""
for _ in $(seq 1 1500); do
  pid=$(pgrep -f "$pattern" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.2
done
[ -n "$pid" ] || { echo "profile.sh: no $target process appeared" >&2; kill "$bench"; exit 1; }
sleep "$warm"
perf record -F 499 -g -p "$pid" -o "$out/perf.data" -- sleep 15 > "$out/perf.log" 2>&1
if [ "$target" = bridge ]; then
  # The whole benchmark, not only its bash: dotnet run, the benchmark process and the host it started.
  pkill -f "Hokusai.Bus.Benchmarks" 2>/dev/null || true
  kill "$bench" 2>/dev/null || true
  pkill -f "Hokusai.Bus.Host.dll" 2>/dev/null || true
fi
wait "$bench" || true
perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -E '^\s+[0-9.]+%' > "$out/self.txt"
python3 - "$out/self.txt" <<'PY'
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
grep -E '^\s+(e2e|paced|bridge) ' "$out/bench.txt" | head -3
