#!/usr/bin/env bash
# Local RabbitMQ + Redis for the integration tests, without systemd or Docker.
#
#   scripts/services.sh start    install (Debian packages, only if missing) and launch both in the
#                                background; returns without waiting for readiness
#   scripts/services.sh wait     block until AMQP 5672, management API 15672 and Redis 6379 answer
#                                (SERVICES_WAIT_TIMEOUT seconds, default 90)
#   scripts/services.sh stop     stop both
#   scripts/services.sh status   print what answers; exit 0 only if everything does
#
# Everything listens on 127.0.0.1 only. Tests use the defaults:
#   RABBITMQ_URL=amqp://guest:guest@localhost:5672/   management http://127.0.0.1:15672 guest/guest
#   REDIS_URL=localhost:6379
# Logs: /var/log/rabbitmq/rabbit@localhost.log, /var/log/hokusai/{rabbitmq-server.out,redis.log}.
set -euo pipefail

# rabbitmqctl / rabbitmq-diagnostics must use the same node name as the server. The same values
# are also written to /etc/rabbitmq/rabbitmq-env.conf so a bare `rabbitmqctl` works in any shell.
export RABBITMQ_NODENAME=rabbit@localhost
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

HOST=127.0.0.1
AMQP_PORT=5672
MGMT_PORT=15672
REDIS_PORT=6379
LOG_DIR=/var/log/hokusai
RABBIT_OUT="$LOG_DIR/rabbitmq-server.out"
REDIS_LOG="$LOG_DIR/redis.log"
RABBIT_LOGS=("/var/log/rabbitmq/$RABBITMQ_NODENAME.log" "$RABBIT_OUT")
WAIT_TIMEOUT="${SERVICES_WAIT_TIMEOUT:-90}"

log() { echo "services: $*" >&2; }

need_root() {
    if [ "$(id -u)" != 0 ]; then
        log "must run as root (installs packages and starts system services)"
        exit 1
    fi
}

port_open() { # host port
    timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

amqp_up()  { port_open "$HOST" "$AMQP_PORT"; }
mgmt_up()  { curl -fsS -o /dev/null --max-time 2 -u guest:guest "http://$HOST:$MGMT_PORT/api/overview" 2>/dev/null; }
redis_up() { [ "$(timeout 2 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# A broker that is still booting does not answer on 5672 yet; do not launch a second one.
rabbit_process_running() {
    local f pid
    for f in "/var/lib/rabbitmq/mnesia/$RABBITMQ_NODENAME.pid" "$LOG_DIR/rabbitmq-server.pid"; do
        pid=$(cat "$f" 2>/dev/null) || continue
        # guard against a stale pid file whose pid now belongs to something else
        [ -n "$pid" ] && grep -qa rabbitmq "/proc/$pid/cmdline" 2>/dev/null && return 0
    done
    return 1
}

# write_if_changed FILE CONTENT -> returns 0 if the file was (re)written
write_if_changed() {
    if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then
        return 1
    fi
    printf '%s\n' "$2" >"$1"
    return 0
}

install_packages() {
    local missing=()
    [ -x /usr/sbin/rabbitmq-server ] && [ -x /usr/sbin/rabbitmqctl ] || missing+=(rabbitmq-server)
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    # The README's Python examples (the pika producer, the legacy Redis consumer) run in tests under Debian's python3.
    /usr/bin/python3 -c "import pika" >/dev/null 2>&1 || missing+=(python3-pika)
    /usr/bin/python3 -c "import redis" >/dev/null 2>&1 || missing+=(python3-redis)
    # A test validates compose/docker-compose.yml with the real tool (config only; no Docker engine needed).
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing ${missing[*]} ..."
    local t0=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    # policy-rc.d (if present) prevents the packages from auto-starting; we start them ourselves.
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    log "installed ${missing[*]} in $((SECONDS - t0)) s"
}

configure_rabbitmq() { # sets CONFIG_CHANGED=1 if anything was (re)written
    install -d -o rabbitmq -g rabbitmq /etc/rabbitmq
    CONFIG_CHANGED=0
    write_if_changed /etc/rabbitmq/rabbitmq.conf "# Managed by scripts/services.sh (Hokusai.Bus local test broker)
listeners.tcp.default = $HOST:$AMQP_PORT
management.tcp.ip = $HOST
management.tcp.port = $MGMT_PORT" && CONFIG_CHANGED=1
    # Sourced by every rabbitmq script (server and CLI tools) as shell.
    write_if_changed /etc/rabbitmq/rabbitmq-env.conf "# Managed by scripts/services.sh (Hokusai.Bus local test broker)
NODENAME=$RABBITMQ_NODENAME
NODE_IP_ADDRESS=$HOST
NODE_PORT=$AMQP_PORT
ERL_EPMD_ADDRESS=$HOST
# Erlang distribution listeners (server 25672, CLI 35672-35682) on loopback only.
SERVER_ADDITIONAL_ERL_ARGS=\"-kernel inet_dist_use_interface {127,0,0,1}\"
CTL_ERL_ARGS=\"-kernel inet_dist_use_interface {127,0,0,1}\"" && CONFIG_CHANGED=1
    if ! [ -f /etc/rabbitmq/enabled_plugins ] || ! grep -q rabbitmq_shovel_management /etc/rabbitmq/enabled_plugins \
        || ! grep -q 'rabbitmq_management[],]' /etc/rabbitmq/enabled_plugins; then
        rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management >/dev/null
        CONFIG_CHANGED=1
    fi
    # rabbitmq-plugins runs as root under the Debian wrapper; keep the broker's files its own.
    chown rabbitmq:rabbitmq /etc/rabbitmq/rabbitmq.conf /etc/rabbitmq/rabbitmq-env.conf /etc/rabbitmq/enabled_plugins
    grep -q rabbitmq_shovel_management /etc/rabbitmq/enabled_plugins || {
        log "failed to enable plugins: $(cat /etc/rabbitmq/enabled_plugins)"; exit 1; }
}

start_rabbitmq() {
    configure_rabbitmq
    if amqp_up || rabbit_process_running; then
        log "rabbitmq already running"
        if [ "$CONFIG_CHANGED" = 1 ]; then
            log "warning: rabbitmq configuration changed; run '$0 stop && $0 start' to apply it"
        fi
        return 0
    fi
    install -d -o rabbitmq -g rabbitmq /var/log/rabbitmq /var/lib/rabbitmq
    : >"$RABBIT_OUT"
    # /usr/sbin/rabbitmq-server is the Debian wrapper: as root it runs the real script as the
    # rabbitmq user via `su` (which keeps this environment), so no root-owned files are left behind.
    # Fully detached (setsid, all fds redirected) so that a caller's stdout pipe closes when it ends.
    (cd /var/lib/rabbitmq && exec setsid nohup /usr/sbin/rabbitmq-server </dev/null >>"$RABBIT_OUT" 2>&1) &
    echo $! >"$LOG_DIR/rabbitmq-server.pid"
    log "rabbitmq starting (node $RABBITMQ_NODENAME, logs $RABBIT_OUT and /var/log/rabbitmq/)"
}

start_redis() {
    if redis_up; then
        log "redis already running"
        return 0
    fi
    redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
        --dir /tmp --logfile "$REDIS_LOG" --pidfile "$LOG_DIR/redis.pid" </dev/null >/dev/null
    log "redis starting (log $REDIS_LOG)"
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

cmd_start() {
    need_root
    install -d "$LOG_DIR"
    install_packages
    start_redis
    start_rabbitmq
}

cmd_wait() {
    local t0=$SECONDS deadline=$((SECONDS + WAIT_TIMEOUT))
    wait_for "redis on $HOST:$REDIS_PORT (redis-cli ping)" redis_up "$deadline" "$REDIS_LOG"
    wait_for "rabbitmq AMQP on $HOST:$AMQP_PORT" amqp_up "$deadline" "${RABBIT_LOGS[@]}"
    wait_for "rabbitmq management API on http://$HOST:$MGMT_PORT/api/overview" mgmt_up "$deadline" "${RABBIT_LOGS[@]}"
    log "rabbitmq and redis ready (waited $((SECONDS - t0)) s)"
}

cmd_stop() {
    need_root
    if amqp_up || rabbit_process_running; then
        log "stopping rabbitmq"
        rabbitmqctl -q stop >/dev/null 2>&1 || log "rabbitmqctl stop failed (node not reachable?)"
        local deadline=$((SECONDS + 30))
        while rabbit_process_running || amqp_up; do
            [ "$SECONDS" -ge "$deadline" ] && { log "rabbitmq still running after 30 s"; break; }
            sleep 0.3
        done
    else
        log "rabbitmq not running"
    fi
    rm -f "$LOG_DIR/rabbitmq-server.pid"
    if redis_up; then
        log "stopping redis"
        redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    else
        log "redis not running"
    fi
}

cmd_status() {
    local rc=0
    if amqp_up; then echo "rabbitmq amqp        $HOST:$AMQP_PORT  up"; else echo "rabbitmq amqp        $HOST:$AMQP_PORT  down"; rc=1; fi
    if mgmt_up; then echo "rabbitmq management  $HOST:$MGMT_PORT up"; else echo "rabbitmq management  $HOST:$MGMT_PORT down"; rc=1; fi
    if redis_up; then echo "redis                $HOST:$REDIS_PORT  up"; else echo "redis                $HOST:$REDIS_PORT  down"; rc=1; fi
    return $rc
}

case "${1:-}" in
    start) cmd_start ;;
    wait) cmd_wait ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|wait|stop|status" >&2
        exit 2
        ;;
esac
