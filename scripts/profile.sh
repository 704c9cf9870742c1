#!/usr/bin/env bash
# CPU profile of the host under the saturated 1 KB run (issue #14: find costs before changing code).
#   scripts/profile.sh [OUTPUT_DIR]    needs Linux perf (/usr/bin/perf) and root
# The bench runs the host with perf maps on and W^X off (so perf can name JIT-compiled methods), perf samples the host
# for 15 s after a 20 s warm-up (tiered JIT done), and the report groups self time by assembly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-artifacts/profile}
mkdir -p "$out"
bash scripts/bench.sh --scenarios sweep --sweep 16 --count 250000 \
  --host-env DOTNET_PerfMapEnabled=1 --host-env DOTNET_EnableWriteXorExecute=0 > "$out/bench.txt" 2>&1 &
bench=$!
pid=""
for _ in $(seq 1 600); do
  pid=$(pgrep -f "Hokusai.Bus.Host.dll" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.2
done
sleep 20
perf record -F 499 -g -p "$pid" -o "$out/perf.data" -- sleep 15 > "$out/perf.log" 2>&1
wait "$bench"
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
print("share of host CPU (self time), by assembly or library:")
for key, share in total.most_common(20):
    print(f"  {share:6.2f}%  {key}")
PY
grep -E '^\s+e2e |^\s+paced ' "$out/bench.txt" | head -2
