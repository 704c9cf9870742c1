#!/usr/bin/env bash
# A private RabbitMQ node and a private Redis for the tests, without systemd or Docker. They run on ports and in a
# data folder of their own, so a RabbitMQ or Redis already on this machine (on 5672 / 15672 / 6379) is never stopped,
# restarted or reconfigured by the tests: every command here acts only on the node and server this script started.
#
#   scripts/services.sh start    install the Debian packages (only if missing; needs root) and launch both in the
#                                background; returns without waiting for readiness
#   scripts/services.sh wait     block until AMQP, the management API and Redis answer
#                                (SERVICES_WAIT_TIMEOUT seconds, default 90)
#   scripts/services.sh start rabbitmq, wait rabbitmq
#                                the RabbitMQ node alone, installing only rabbitmq-server (and curl) if missing:
#                                the broker of the README's first delivery
#   scripts/services.sh stop     stop both (only the private ones)
#   scripts/services.sh status   print what answers; exit 0 only if everything does
#   scripts/services.sh ctl ARGS rabbitmqctl against the private node, e.g. `ctl list_queues -p /`
#   scripts/services.sh env      print the settings below as shell assignments
#
# Settings (the tests read the same variables, with the same defaults):
#   HOKUSAI_TEST_AMQP_PORT        5682   amqp://guest:guest@127.0.0.1:5682/
#   HOKUSAI_TEST_MANAGEMENT_PORT  15682  http://127.0.0.1:15682 (guest/guest)
#   HOKUSAI_TEST_REDIS_PORT       6389   127.0.0.1:6389
#   HOKUSAI_TEST_RABBITMQ_NODE    hokusai-test@localhost (Erlang distribution on the AMQP port + 20000)
#   HOKUSAI_TEST_SERVICES_DIR     artifacts/services in this checkout: the node's config, data, logs and Erlang
#                                 cookie (rabbitmq/), Redis's log (redis/)
# Everything listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST=127.0.0.1
AMQP_PORT=${HOKUSAI_TEST_AMQP_PORT:-5682}
MGMT_PORT=${HOKUSAI_TEST_MANAGEMENT_PORT:-15682}
REDIS_PORT=${HOKUSAI_TEST_REDIS_PORT:-6389}
NODE=${HOKUSAI_TEST_RABBITMQ_NODE:-hokusai-test@localhost}
DIR=${HOKUSAI_TEST_SERVICES_DIR:-$ROOT/artifacts/services}
RABBIT_DIR="$DIR/rabbitmq"
REDIS_DIR="$DIR/redis"
RABBIT_OUT="$RABBIT_DIR/log/server.out"
RABBIT_LOG="$RABBIT_DIR/log/$NODE.log"
REDIS_LOG="$REDIS_DIR/redis.log"
WAIT_TIMEOUT="${SERVICES_WAIT_TIMEOUT:-90}"
RABBIT_BIN=/usr/lib/rabbitmq/bin # the real scripts; /usr/sbin's wrappers would switch to the system's rabbitmq user

log() { echo "services: $*" >&2; }

# The node's whole environment: its own name, ports, config, plugins, data, logs and cookie ($HOME/.erlang.cookie).
# rabbitmqctl gets the same, so it reaches this node and no other.
rabbit_env() {
    export HOME="$RABBIT_DIR"
    export RABBITMQ_NODENAME="$NODE"
    export RABBITMQ_NODE_IP_ADDRESS="$HOST"
    export RABBITMQ_NODE_PORT="$AMQP_PORT"
    export RABBITMQ_DIST_PORT=$((AMQP_PORT + 20000))
    export RABBITMQ_CONF_ENV_FILE="$RABBIT_DIR/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq.conf"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia"
    export RABBITMQ_LOG_BASE="$RABBIT_DIR/log"
    export RABBITMQ_PID_FILE="$RABBIT_DIR/rabbitmq.pid"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export ERL_EPMD_ADDRESS="$HOST"
}

port_open() { # host port
    timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

amqp_up()  { port_open "$HOST" "$AMQP_PORT"; }
mgmt_up()  { curl -fsS -o /dev/null --max-time 2 -u guest:guest "http://$HOST:$MGMT_PORT/api/overview" 2>/dev/null; }
redis_up() { [ "$(timeout 2 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

pid_alive() { # pidfile pattern
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && grep -qa "$2" "/proc/$pid/cmdline" 2>/dev/null
}

# A node that is still booting does not answer on its AMQP port yet; do not launch a second one.
rabbit_running() { pid_alive "$RABBIT_DIR/rabbitmq.pid" beam || pid_alive "$RABBIT_DIR/launcher.pid" rabbitmq; }

install_packages() { # [rabbitmq]: only what the RabbitMQ node needs
    local missing=()
    [ -x "$RABBIT_BIN/rabbitmq-server" ] || missing+=(rabbitmq-server)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    [ "${1:-}" = rabbitmq ] || install_test_packages
    install_missing
}

install_test_packages() {
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
    # The docs' Python examples (the pika producer, the legacy Redis consumer) run in tests under Debian's python3.
    /usr/bin/python3 -c "import pika" >/dev/null 2>&1 || missing+=(python3-pika)
    /usr/bin/python3 -c "import redis" >/dev/null 2>&1 || missing+=(python3-redis)
    # A test validates compose/docker-compose.yml with the real tool (config only; no Docker engine needed).
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
    # The alert rules' tests run under promtool; the delivery log's page is tested in a real browser.
    command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
}

install_missing() { # the caller's $missing
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        log "missing Debian packages: ${missing[*]}; install them (as root: apt-get install ${missing[*]}) and run again"
        exit 1
    fi
    log "installing ${missing[*]} ..."
    local t0=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d (where present) keeps the packages' own services from starting; if Debian starts its system broker
    # anyway, it is on the standard ports and left alone.
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    log "installed ${missing[*]} in $((SECONDS - t0)) s"
}

configure_rabbitmq() {
    mkdir -p "$RABBIT_DIR/log" "$RABBIT_DIR/mnesia"
    printf '# Written by scripts/services.sh: the private test node.\n' >"$RABBIT_DIR/rabbitmq-env.conf"
    printf '%s\n' "# Written by scripts/services.sh: the private test node." \
        "listeners.tcp.default = $HOST:$AMQP_PORT" \
        "management.tcp.ip = $HOST" \
        "management.tcp.port = $MGMT_PORT" >"$RABBIT_DIR/rabbitmq.conf"
    printf '[rabbitmq_management,rabbitmq_shovel,rabbitmq_shovel_management].\n' >"$RABBIT_DIR/enabled_plugins"
}

start_rabbitmq() {
    if rabbit_running; then
        log "rabbitmq node $NODE already running"
        return 0
    fi
    if amqp_up; then
        # Not ours (another checkout's test node, or a broker the machine runs): never use or touch it.
        log "port $AMQP_PORT is taken by a RabbitMQ this checkout did not start; set HOKUSAI_TEST_AMQP_PORT (and" \
            "HOKUSAI_TEST_MANAGEMENT_PORT, HOKUSAI_TEST_RABBITMQ_NODE) to run the tests beside it"
        exit 1
    fi
    configure_rabbitmq
    rabbit_env
    : >"$RABBIT_OUT"
    # Fully detached (setsid, all fds redirected) so that a caller's stdout pipe closes when it ends.
    (cd "$RABBIT_DIR" && exec setsid nohup "$RABBIT_BIN/rabbitmq-server" </dev/null >>"$RABBIT_OUT" 2>&1) &
    echo $! >"$RABBIT_DIR/launcher.pid"
    log "rabbitmq node $NODE starting on $HOST:$AMQP_PORT (management $MGMT_PORT; logs $RABBIT_DIR/log)"
}

start_redis() {
    if pid_alive "$REDIS_DIR/redis.pid" redis-server; then
        log "redis already running on $HOST:$REDIS_PORT"
        return 0
    fi
    if redis_up; then
        log "port $REDIS_PORT is taken by a Redis this checkout did not start; set HOKUSAI_TEST_REDIS_PORT to run the tests beside it"
        exit 1
    fi
    mkdir -p "$REDIS_DIR"
    redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
        --dir "$REDIS_DIR" --logfile "$REDIS_LOG" --pidfile "$REDIS_DIR/redis.pid" </dev/null >/dev/null
    log "redis starting on $HOST:$REDIS_PORT (log $REDIS_LOG)"
}

tail_logs() {
    local f
    for f in "$@"; do
        if [ -s "$f" ]; then
            echo "----- tail of $f -----" >&2
            tail -n 30 "$f" >&2
        fi
    done
}

wait_for() { # name check-function deadline logs...
    local name=$1 check=$2 deadline=$3
    shift 3
    until "$check"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "timed out after ${WAIT_TIMEOUT}s waiting for $name"
            tail_logs "$@"
            return 1
        fi
        sleep 0.3
    done
}

cmd_start() { # [rabbitmq]
    install_packages "${1:-}"
    [ "${1:-}" = rabbitmq ] || start_redis
    start_rabbitmq
}

cmd_wait() { # [rabbitmq]
    local t0=$SECONDS deadline=$((SECONDS + WAIT_TIMEOUT))
    [ "${1:-}" = rabbitmq ] || wait_for "redis on $HOST:$REDIS_PORT (redis-cli ping)" redis_up "$deadline" "$REDIS_LOG"
    wait_for "rabbitmq AMQP on $HOST:$AMQP_PORT" amqp_up "$deadline" "$RABBIT_LOG" "$RABBIT_OUT"
    wait_for "rabbitmq management API on http://$HOST:$MGMT_PORT/api/overview" mgmt_up "$deadline" "$RABBIT_LOG" "$RABBIT_OUT"
    if [ "${1:-}" = rabbitmq ]; then
        log "rabbitmq ready on amqp://guest:guest@$HOST:$AMQP_PORT/ (management http://$HOST:$MGMT_PORT; waited $((SECONDS - t0)) s)"
    else
        log "rabbitmq and redis ready (waited $((SECONDS - t0)) s)"
    fi
}

cmd_stop() {
    if rabbit_running; then
        log "stopping rabbitmq node $NODE"
        rabbit_env
        "$RABBIT_BIN/rabbitmqctl" -q -n "$NODE" stop >/dev/null 2>&1 || log "rabbitmqctl stop failed (node not reachable?)"
        local deadline=$((SECONDS + 30))
        while rabbit_running; do
            [ "$SECONDS" -ge "$deadline" ] && { log "rabbitmq node $NODE still running after 30 s"; break; }
            sleep 0.3
        done
    else
        log "rabbitmq node $NODE not running"
    fi
    rm -f "$RABBIT_DIR/launcher.pid"
    if pid_alive "$REDIS_DIR/redis.pid" redis-server; then
        log "stopping redis on $HOST:$REDIS_PORT"
        redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    else
        log "redis on $HOST:$REDIS_PORT not running (or not started here)"
    fi
}

cmd_status() {
    local rc=0
    if amqp_up; then echo "rabbitmq amqp        $HOST:$AMQP_PORT  up"; else echo "rabbitmq amqp        $HOST:$AMQP_PORT  down"; rc=1; fi
    if mgmt_up; then echo "rabbitmq management  $HOST:$MGMT_PORT up"; else echo "rabbitmq management  $HOST:$MGMT_PORT down"; rc=1; fi
    if redis_up; then echo "redis                $HOST:$REDIS_PORT  up"; else echo "redis                $HOST:$REDIS_PORT  down"; rc=1; fi
    return $rc
}

# Sourced (scripts/cluster.sh reuses the functions above for its three nodes): define them, run nothing.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

case "${1:-}" in
    start | wait)
        case "${2:-}" in
            "" | rabbitmq) ;;
            *) echo "usage: $0 $1 [rabbitmq]" >&2; exit 2 ;;
        esac
        "cmd_$1" "${2:-}"
        ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    ctl) shift; rabbit_env; exec "$RABBIT_BIN/rabbitmqctl" -n "$NODE" "$@" ;;
    env)
        printf 'HOKUSAI_TEST_AMQP_PORT=%s\nHOKUSAI_TEST_MANAGEMENT_PORT=%s\nHOKUSAI_TEST_REDIS_PORT=%s\n' "$AMQP_PORT" "$MGMT_PORT" "$REDIS_PORT"
        printf 'HOKUSAI_TEST_RABBITMQ_NODE=%s\nHOKUSAI_TEST_SERVICES_DIR=%s\n' "$NODE" "$DIR"
        ;;
    *)
        echo "usage: $0 start [rabbitmq]|wait [rabbitmq]|stop|status|ctl ARGS|env" >&2
        exit 2
        ;;
esac
