#!/usr/bin/env bash
# Stand-ins for a RabbitMQ and a Redis that already run on a user's machine, on the standard ports (5672, 15672,
# 6379, node rabbit@localhost), to prove the test command leaves them alone (.ci/run starts them before the tests and
# checks them after):
#
#   scripts/bystanders.sh start   start both (the same script as the tests' services, with the standard settings)
#                                 and record what "untouched" means: the node's pid, consumer_timeout and log,
#                                 Redis's run id and a marker key
#   scripts/bystanders.sh check   exit 1, naming what changed, if either was stopped, restarted or reconfigured
#   scripts/bystanders.sh stop    stop both
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export HOKUSAI_TEST_AMQP_PORT=5672 HOKUSAI_TEST_MANAGEMENT_PORT=15672 HOKUSAI_TEST_REDIS_PORT=6379
export HOKUSAI_TEST_RABBITMQ_NODE=rabbit@localhost
export HOKUSAI_TEST_SERVICES_DIR=${BYSTANDERS_DIR:-/tmp/hokusai-bystanders}
DIR=$HOKUSAI_TEST_SERVICES_DIR
STATE="$DIR/untouched"
LOG="$DIR/rabbitmq/log/rabbit@localhost.log"

state() {
    echo "rabbitmq pid $(cat "$DIR/rabbitmq/rabbitmq.pid" 2>/dev/null)"
    echo "rabbitmq consumer_timeout $(bash scripts/services.sh ctl -q eval 'application:get_env(rabbit, consumer_timeout).' 2>&1)"
    echo "rabbitmq stops $(grep -c 'RabbitMQ is asked to stop' "$LOG" 2>/dev/null || true)"
    echo "redis run_id $(redis-cli -p 6379 info server 2>/dev/null | tr -d '\r' | sed -n 's/^run_id://p')"
    echo "redis marker $(redis-cli -p 6379 get hokusai:bystander 2>/dev/null)"
}

case "${1:-}" in
    start)
        bash scripts/services.sh start
        bash scripts/services.sh wait
        redis-cli -p 6379 set hokusai:bystander untouched >/dev/null
        state >"$STATE"
        echo "bystanders: RabbitMQ (rabbit@localhost, 5672/15672) and Redis (6379) running; state in $STATE" >&2
        ;;
    check)
        if diff <(cat "$STATE") <(state) >&2; then
            echo "bystanders: the machine's RabbitMQ and Redis were not touched by the tests" >&2
        else
            echo "bystanders: the tests stopped, restarted or reconfigured a RabbitMQ or Redis they did not start (above: before < > after)" >&2
            exit 1
        fi
        ;;
    stop) bash scripts/services.sh stop ;;
    *) echo "usage: $0 start|check|stop" >&2; exit 2 ;;
esac
