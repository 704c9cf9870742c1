#!/usr/bin/env bash
# Run all tests: start RabbitMQ + Redis (scripts/services.sh) and a three-node cluster (scripts/cluster.sh, stopped
# again at the end), build the solution in Release while
# they boot, run `dotnet test` with TRX output, and print one summary line:
#
#   tests: N passed, N failed, N skipped
#
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter "FullyQualifiedName~Outbox".
# Exit status is non-zero if the build or `dotnet test` fails, if any test failed, or if no test ran.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export MASSTRANSIT_USAGE_TELEMETRY=false
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

SOLUTION=Hokusai.Bus.sln
RESULTS_DIR=artifacts/test-results

bash scripts/services.sh start
# The three-node cluster of the cluster test (issue 25), booting while the solution builds; stopped when this ends.
bash scripts/cluster.sh start
trap 'bash scripts/cluster.sh stop >/dev/null 2>&1 || true' EXIT
# The Node receivers the tests run (the guide's snippet, the official Standard Webhooks library), from npm.
if [ ! -d tests/node/node_modules ]; then
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
dotnet build "$SOLUTION" -c Release
bash scripts/services.sh wait
bash scripts/cluster.sh wait

rm -rf "$RESULTS_DIR" artifacts/fault-suite.md artifacts/soak.md
mkdir -p "$RESULTS_DIR"

test_rc=0
# One test assembly at a time (-m:1): the integration suites restart brokers and time breakers; on 2 cores they
# are steadier without the other assemblies competing.
dotnet test "$SOLUTION" -c Release --no-build -m:1 --logger "trx" --results-directory "$RESULTS_DIR" "$@" || test_rc=$?

# Sum the <Counters .../> element of every TRX file (one per test project).
summary=$(
    find "$RESULTS_DIR" -name '*.trx' -type f -print0 |
        xargs -0 -r cat |
        tr '\n' ' ' |
        grep -o '<Counters [^>]*>' |
        awk '
            function attr(name,   m) {
                if (match($0, name "=\"[0-9]+\"")) {
                    m = substr($0, RSTART, RLENGTH)
                    gsub(/[^0-9]/, "", m)
                    return m + 0
                }
                return 0
            }
            {
                files++
                total += attr(" total"); executed += attr(" executed")
                passed += attr(" passed"); failed += attr(" failed")
                # errors/timeouts/aborted count as failures too
                failed += attr(" error") + attr(" timeout") + attr(" aborted")
            }
            END {
                skipped = total - executed
                if (skipped < 0) skipped = 0
                printf "%d %d %d %d\n", passed + 0, failed + 0, skipped, files + 0
            }'
) || summary="0 0 0 0"
read -r passed failed skipped trx_files <<<"$summary"

if [ -f artifacts/fault-suite.md ]; then
    echo "Fault suite (every published registration accounted for):"
    cat artifacts/fault-suite.md
fi

if [ -f artifacts/soak.md ]; then
    echo "Soak (CI size; scripts/soak.sh runs 10,000 with 3-minute outages):"
    cat artifacts/soak.md
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"

if [ "$trx_files" -eq 0 ] || [ $((passed + failed)) -eq 0 ]; then
    echo "test.sh: no test ran (found $trx_files .trx file(s) in $RESULTS_DIR; dotnet test exit code $test_rc)" >&2
    exit 1
fi
if [ "$test_rc" -ne 0 ]; then
    echo "test.sh: dotnet test failed (exit code $test_rc)" >&2
    exit "$test_rc"
fi
if [ "$failed" -gt 0 ]; then
    echo "test.sh: $failed test(s) failed" >&2
    exit 1
fi
