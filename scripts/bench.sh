#!/usr/bin/env bash
# Benchmarks (issue 6). Builds Release (the benchmark and the host it runs), starts RabbitMQ if it is not up
# (scripts/services.sh), then runs the end-to-end benchmark: a table on the console and artifacts/bench/result.json.
#
#   scripts/bench.sh                 quick mode, a few minutes on 2 cores (backlogs 1k and 10k)
#   scripts/bench.sh --full          larger runs and the 100k backlog
#   scripts/bench.sh [e2e options]   e.g. --scenarios sweep --sweep 16,32,64, --host-env KEY=VALUE; --help lists them
#   scripts/bench.sh micro           BenchmarkDotNet: contracts serialize+sign, verify and read (about a minute)
#   scripts/bench.sh ingest          POST /ingest against its floor (a minimal Kestrel endpoint), every process warmed up
#                                    once and measured in segments round by round, then against raw HTTP POSTs; 1 KB at
#                                    concurrency 16; --rounds, --count (per segment), --only masstransit,bare,key,log,
#                                    validate,json,reader,full,bus,timeout (extra floors, each the floor plus one part of
#                                    the host; the floor's two instances and the host always run), --floor-only true,
#                                    --variant LABEL:K=V,...
#   scripts/bench.sh floor           the host (production defaults) against the raw bridge and a plain MassTransit
#                                    consumer doing the same work, in rounds; --variant LABEL:K=V,... adds the host
#                                    with settings changed (the toggles that find a cost); --help lists the options
#   scripts/bench.sh deliverylog     host CPU per delivery with the delivery log off and on, and reading 1,000,000 records
#   scripts/bench.sh scale           one host against two on the three-node cluster (scripts/cluster.sh, started and
#                                    stopped here if it is not up), quorum queues; about 2 minutes
#
# Loopback only; nothing here asserts absolute numbers: the table prints ratios against the limits and the peer.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export MASSTRANSIT_USAGE_TELEMETRY=false
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PROJECT=tests/Hokusai.Bus.Benchmarks

mode=e2e
if [ "${1:-}" = micro ]; then
    mode=micro
    shift
elif [ "${1:-}" = ingest ]; then
    mode=ingest
    shift
elif [ "${1:-}" = scale ]; then
    mode=scale
    shift
elif [ "${1:-}" = floor ]; then
    mode=floor
    shift
elif [ "${1:-}" = deliverylog ]; then
    mode=deliverylog
    shift
elif [ "${1:-}" = e2e ]; then
    shift
fi

# The private test node and Redis (scripts/services.sh), never a broker already on the machine.
rabbit_up() { bash scripts/services.sh status >/dev/null 2>&1; }

if [ "$mode" != micro ] && ! rabbit_up; then
    bash scripts/services.sh start
    # Build while RabbitMQ boots.
    dotnet build "$PROJECT" -c Release -nologo -v quiet
    bash scripts/services.sh wait
else
    dotnet build "$PROJECT" -c Release -nologo -v quiet
fi

if [ "$mode" = scale ] && ! bash scripts/cluster.sh status >/dev/null 2>&1; then
    bash scripts/cluster.sh start
    trap 'bash scripts/cluster.sh stop >/dev/null 2>&1 || true' EXIT
    bash scripts/cluster.sh wait
fi

dotnet run -c Release --no-build --project "$PROJECT" -- "$mode" "$@"
