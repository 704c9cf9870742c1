#!/usr/bin/env bash
# The soak: 10,000 registrations through a confirming producer while the receiver is down 3 minutes, the host is
# SIGKILLed twice, RabbitMQ restarts once and Redis is down 3 minutes (Redis fallback on). Prints the result table
# (also in artifacts/soak.md): every key delivered to the webhook and to the Redis list, 0 in any _error queue,
# duplicates counted. CI runs the same test with 2,000 registrations and 20 s outages.
#
#   scripts/soak.sh [COUNT] [OUTAGE_SECONDS]     defaults 10000 180; takes about 10 minutes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export MASSTRANSIT_USAGE_TELEMETRY=false DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 CI="${CI:-true}"
export SOAK_COUNT="${1:-10000}" SOAK_OUTAGE_SECONDS="${2:-180}"
bash scripts/services.sh start
dotnet build tests/Hokusai.Bus.IntegrationTests -c Release
bash scripts/services.sh wait
dotnet test tests/Hokusai.Bus.IntegrationTests -c Release --no-build --filter "FullyQualifiedName~SoakTests"
cat artifacts/soak.md
