#!/usr/bin/env bash
# A private three-node RabbitMQ cluster on loopback (issue 25), without systemd or Docker, built from the same parts
# as the tests' single node (scripts/services.sh, sourced): nodes hokusai-c1/c2/c3@localhost with their own ports,
# config, data, logs, one shared Erlang cookie and an Erlang port mapper (epmd) of their own, so nothing else on this
# machine (a RabbitMQ on 5672, another checkout's test node, the epmd on 4369 they share) is used, stopped or touched.
#
#   scripts/cluster.sh start        launch the three nodes (a fresh cluster: a previous one's data is deleted) and, in
#                                   the background, join c2 and c3 to c1 (rabbitmqctl stop_app; join_cluster;
#                                   start_app); returns without waiting
#   scripts/cluster.sh wait         block until all three run and are clustered; prints the time since `start`
#                                   (HOKUSAI_CLUSTER_WAIT_TIMEOUT seconds, default 120)
#   scripts/cluster.sh status       each node, its ports and memory, and the cluster's running nodes; exit 0 only if
#                                   all three run and are clustered
#   scripts/cluster.sh kill N       kill -9 node N's Erlang VM (beam.smp), as a crash would
#   scripts/cluster.sh restart N    start node N again on its data and wait until it runs in the cluster again
#   scripts/cluster.sh leader Q [V] the node that leads quorum queue (or stream) Q in vhost V (default /)
#   scripts/cluster.sh ctl N ARGS   rabbitmqctl against node N, e.g. `ctl 1 cluster_status`
#   scripts/cluster.sh stop         stop the three nodes and the port mapper (only what this script started)
#   scripts/cluster.sh env          print the settings below as shell assignments, and the nodes' AMQP URLs
#
# Settings:
#   HOKUSAI_CLUSTER_AMQP_PORT        5701   node N listens on this + N - 1 (5701, 5702, 5703)
#   HOKUSAI_CLUSTER_MANAGEMENT_PORT  15701  node N's management API on this + N - 1 (guest/guest)
#   HOKUSAI_CLUSTER_EPMD_PORT        4701   the cluster's own epmd
#   HOKUSAI_CLUSTER_DIR              artifacts/cluster in this checkout: c1/ c2/ c3/ (each node's config, data, logs),
#                                    the shared cookie (.erlang.cookie), join.log
# Erlang distribution: node N on its AMQP port + 20000 (25701..25703); rabbitmqctl on AMQP port + 30000..30010.
# Everything listens on 127.0.0.1 only.
set -euo pipefail

# shellcheck source=services.sh
source "$(dirname "${BASH_SOURCE[0]}")/services.sh" # port_open, pid_alive, rabbit_env, rabbit_running, wait_for, ...

CLUSTER_AMQP_PORT=${HOKUSAI_CLUSTER_AMQP_PORT:-5701}
CLUSTER_MGMT_PORT=${HOKUSAI_CLUSTER_MANAGEMENT_PORT:-15701}
EPMD_PORT=${HOKUSAI_CLUSTER_EPMD_PORT:-4701}
CLUSTER_DIR=${HOKUSAI_CLUSTER_DIR:-$ROOT/artifacts/cluster}
WAIT_TIMEOUT=${HOKUSAI_CLUSTER_WAIT_TIMEOUT:-120}
NODES=(1 2 3)
SEED=hokusai-c1@localhost
EPMD_MARK="$CLUSTER_DIR/epmd.started" # present only while this script's own epmd runs
STARTED_AT="$CLUSTER_DIR/started-at"  # `date +%s.%N` of the last `start`
JOIN_LOG="$CLUSTER_DIR/join.log"
JOIN_RC="$CLUSTER_DIR/join.rc"

log() { echo "cluster: $*" >&2; }

# Points services.sh's globals (and so its functions: rabbit_env, amqp_up, mgmt_up, rabbit_running) at node N.
select_node() {
    case "$1" in 1 | 2 | 3) ;; *) log "no node '$1' (nodes are 1, 2, 3)"; exit 2 ;; esac
    N=$1
    NODE="hokusai-c$1@localhost"
    AMQP_PORT=$((CLUSTER_AMQP_PORT + $1 - 1))
    MGMT_PORT=$((CLUSTER_MGMT_PORT + $1 - 1))
    RABBIT_DIR="$CLUSTER_DIR/c$1"
    RABBIT_OUT="$RABBIT_DIR/log/server.out"
    RABBIT_LOG="$RABBIT_DIR/log/$NODE.log"
}

# services.sh's node environment, plus what the three share: the cookie in $CLUSTER_DIR and the private epmd.
node_env() {
    rabbit_env
    export HOME="$CLUSTER_DIR"
    export ERL_EPMD_PORT="$EPMD_PORT"
}

ctl() { # N rabbitmqctl-args...
    local n=$1
    shift
    (select_node "$n" && node_env && exec "$RABBIT_BIN/rabbitmqctl" -n "$NODE" "$@")
}

# This node's beam.smp pid (from RABBITMQ_PID_FILE), if it runs.
beam_pid() {
    local pid
    pid=$(cat "$RABBIT_DIR/rabbitmq.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && grep -qa beam "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

epmd_ours() { [ -f "$EPMD_MARK" ] && port_open "$HOST" "$EPMD_PORT"; }

# The names of the cluster's running nodes as node N's management API reports them, one a line.
running_nodes() { # N
    select_node "$1"
    curl -fsS --max-time 3 -u guest:guest "http://$HOST:$MGMT_PORT/api/nodes?columns=name,running" 2>/dev/null |
        jq -r '.[] | select(.running) | .name' 2>/dev/null | sort
}

alive_count() {
    local n alive=0
    for n in "${NODES[@]}"; do
        select_node "$n"
        beam_pid >/dev/null && alive=$((alive + 1))
    done
    echo "$alive"
}

# True when every node of ours whose VM is alive answers and sees exactly the alive ones running in its cluster.
clustered() {
    local n alive seen
    alive=$(alive_count)
    [ "$alive" -gt 0 ] || return 1
    for n in "${NODES[@]}"; do
        select_node "$n"
        beam_pid >/dev/null || continue
        amqp_up && mgmt_up || return 1
        seen=$(running_nodes "$n" | grep -c '^hokusai-c[123]@localhost$') || return 1
        [ "$seen" -eq "$alive" ] || return 1
    done
}

configure_node() {
    mkdir -p "$RABBIT_DIR/log" "$RABBIT_DIR/mnesia"
    printf '# Written by scripts/cluster.sh: node %s of the private test cluster.\n' "$NODE" >"$RABBIT_DIR/rabbitmq-env.conf"
    printf '%s\n' "# Written by scripts/cluster.sh: node $NODE of the private test cluster." \
        "listeners.tcp.default = $HOST:$AMQP_PORT" \
        "management.tcp.ip = $HOST" \
        "management.tcp.port = $MGMT_PORT" \
        "cluster_partition_handling = pause_minority" >"$RABBIT_DIR/rabbitmq.conf"
    printf '[rabbitmq_management].\n' >"$RABBIT_DIR/enabled_plugins"
}

launch_node() { # N (data kept: `start` deletes it first, `restart` does not)
    select_node "$1"
    configure_node
    : >>"$RABBIT_OUT"
    # Fully detached (setsid, all fds redirected) so that a caller's stdout pipe closes when it ends.
    (node_env && cd "$RABBIT_DIR" && exec setsid nohup "$RABBIT_BIN/rabbitmq-server" </dev/null >>"$RABBIT_OUT" 2>&1) &
    echo $! >"$RABBIT_DIR/launcher.pid"
    log "node $NODE starting on $HOST:$AMQP_PORT (management $MGMT_PORT, distribution $((AMQP_PORT + 20000)); logs $RABBIT_DIR/log)"
}

# Every port the cluster would listen on must be free: a port that answers belongs to something this script did not
# start (its own nodes were checked not to run).
check_ports_free() {
    local n p taken=()
    for n in "${NODES[@]}"; do
        select_node "$n"
        for p in "$AMQP_PORT" "$MGMT_PORT" $((AMQP_PORT + 20000)); do
            port_open "$HOST" "$p" && taken+=("$p")
        done
    done
    if port_open "$HOST" "$EPMD_PORT" && ! epmd_ours; then taken+=("$EPMD_PORT (epmd)"); fi
    if [ "${#taken[@]}" -gt 0 ]; then
        log "port(s) ${taken[*]} taken by something this script did not start; set HOKUSAI_CLUSTER_AMQP_PORT," \
            "HOKUSAI_CLUSTER_MANAGEMENT_PORT, HOKUSAI_CLUSTER_EPMD_PORT to run the cluster beside it"
        exit 1
    fi
}

start_epmd() {
    if epmd_ours; then return 0; fi
    ERL_EPMD_ADDRESS="$HOST" setsid epmd -port "$EPMD_PORT" -daemon </dev/null >/dev/null 2>&1
    local deadline=$((SECONDS + 10))
    until port_open "$HOST" "$EPMD_PORT"; do
        [ "$SECONDS" -ge "$deadline" ] && { log "epmd did not start on $HOST:$EPMD_PORT"; exit 1; }
        sleep 0.1
    done
    date +%s >"$EPMD_MARK"
}

cmd_start() {
    [ -x "$RABBIT_BIN/rabbitmq-server" ] || { log "rabbitmq-server is not installed (apt-get install rabbitmq-server)"; exit 1; }
    local n alive=()
    for n in "${NODES[@]}"; do
        select_node "$n"
        rabbit_running && alive+=("$NODE")
    done
    if [ "${#alive[@]}" -eq "${#NODES[@]}" ]; then
        log "cluster already running (${alive[*]})"
        return 0
    elif [ "${#alive[@]}" -gt 0 ]; then
        log "only ${alive[*]} running; use 'restart N' for a missing node, or 'stop' then 'start' for a fresh cluster"
        exit 1
    fi
    check_ports_free
    mkdir -p "$CLUSTER_DIR"
    rm -rf "$CLUSTER_DIR"/c1 "$CLUSTER_DIR"/c2 "$CLUSTER_DIR"/c3 "$JOIN_LOG" "$JOIN_RC"
    date +%s.%N >"$STARTED_AT"
    if [ ! -s "$CLUSTER_DIR/.erlang.cookie" ]; then
        (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CLUSTER_DIR/.erlang.cookie")
        chmod 400 "$CLUSTER_DIR/.erlang.cookie"
    fi
    start_epmd
    for n in "${NODES[@]}"; do launch_node "$n"; done
    # The joins need booted nodes; they run detached, and `wait` reports how they went.
    setsid bash "${BASH_SOURCE[0]}" _join </dev/null >>"$JOIN_LOG" 2>&1 &
    echo $! >"$CLUSTER_DIR/join.pid" # setsid does not fork here (not a group leader): this is the joiner's bash
    log "joining hokusai-c2 and hokusai-c3 to $SEED in the background (log $JOIN_LOG); 'wait' blocks until clustered"
}

# A node is booted, plugins included, once its management API answers (it starts after the AMQP listener).
await_booted() { # N deadline
    select_node "$1"
    wait_for "$NODE (management API on $HOST:$MGMT_PORT)" mgmt_up "$2" "$RABBIT_LOG" "$RABBIT_OUT"
}

cmd_join() {
    local n rc=0 deadline=$((SECONDS + WAIT_TIMEOUT))
    {
        await_booted 1 "$deadline"
        for n in 2 3; do
            await_booted "$n" "$deadline"
            echo "$(date +%T) joining hokusai-c$n@localhost to $SEED"
            ctl "$n" -q stop_app
            ctl "$n" -q join_cluster "$SEED"
            ctl "$n" -q start_app
        done
        echo "$(date +%T) joined"
    } || rc=$?
    echo "$rc" >"$JOIN_RC"
    rm -f "$CLUSTER_DIR/join.pid"
    return "$rc"
}

elapsed_since_start() { awk -v t0="$(cat "$STARTED_AT" 2>/dev/null || echo 0)" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'; }

cmd_wait() {
    local n deadline=$((SECONDS + WAIT_TIMEOUT))
    until [ -f "$JOIN_RC" ]; do
        if [ "$SECONDS" -ge "$deadline" ] || { ! pid_alive "$CLUSTER_DIR/join.pid" bash && [ ! -f "$JOIN_RC" ]; }; then
            log "the joins did not finish (see $JOIN_LOG)"
            tail_logs "$JOIN_LOG"
            return 1
        fi
        sleep 0.3
    done
    if [ "$(cat "$JOIN_RC")" != 0 ]; then
        log "joining the nodes failed:"
        tail_logs "$JOIN_LOG"
        return 1
    fi
    for n in "${NODES[@]}"; do
        select_node "$n"
        beam_pid >/dev/null || { log "node $NODE is not running"; tail_logs "$RABBIT_LOG" "$RABBIT_OUT"; return 1; }
    done
    until [ "$(alive_count)" -eq 3 ] && clustered; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "timed out after ${WAIT_TIMEOUT}s waiting for the three nodes to be clustered"
            cmd_status >&2 || true
            return 1
        fi
        sleep 0.3
    done
    log "3 nodes running and clustered, $(elapsed_since_start) s after start"
}

cmd_status() {
    local n pid rc=0 alive=0 names first=""
    for n in "${NODES[@]}"; do
        select_node "$n"
        if pid=$(beam_pid); then
            alive=$((alive + 1))
            [ -n "$first" ] || first=$n
            printf '%-22s pid %-7s rss %4d MB  amqp %s:%s %s  management %s %s\n' "$NODE" "$pid" \
                $(($(ps -o rss= -p "$pid" 2>/dev/null || echo 0) / 1024)) "$HOST" "$AMQP_PORT" \
                "$(amqp_up && echo up || echo down)" "$MGMT_PORT" "$(mgmt_up && echo up || echo down)"
        else
            printf '%-22s not running         amqp %s:%s\n' "$NODE" "$HOST" "$AMQP_PORT"
            rc=1
        fi
    done
    if [ -n "$first" ]; then
        names=$(running_nodes "$first" | tr '\n' ' ')
        echo "cluster (as hokusai-c$first sees it): running ${names:-?}"
    fi
    clustered || rc=1
    return $rc
}

cmd_kill() { # N
    local pid
    select_node "$1"
    pid=$(beam_pid) || { log "node $NODE is not running"; exit 1; }
    kill -9 "$pid"
    while [ -e "/proc/$pid" ]; do sleep 0.05; done
    rm -f "$RABBIT_DIR/launcher.pid"
    log "killed $NODE (beam.smp pid $pid, SIGKILL)"
}

cmd_restart() { # N
    local t0 deadline=$((SECONDS + WAIT_TIMEOUT))
    select_node "$1"
    if beam_pid >/dev/null; then
        log "node $NODE is already running"
        exit 1
    fi
    [ -d "$RABBIT_DIR/mnesia" ] || { log "node $NODE has no data; use 'start' for a fresh cluster"; exit 1; }
    # Alone, a node that was clustered waits (minutes) for its peers' tables at boot; 'start' makes a fresh cluster.
    [ "$(alive_count)" -gt 0 ] || { log "no other node of the cluster runs; use 'start' for a fresh cluster"; exit 1; }
    select_node "$1"
    t0=$(date +%s.%N)
    launch_node "$1"
    # Rejoined: its VM runs, and it and every other live node see each other running.
    until select_node "$1" && beam_pid >/dev/null && clustered; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "timed out after ${WAIT_TIMEOUT}s waiting for $NODE to rejoin"
            tail_logs "$RABBIT_LOG" "$RABBIT_OUT"
            return 1
        fi
        sleep 0.3
        select_node "$1"
    done
    log "node hokusai-c$1@localhost rejoined the cluster in" \
        "$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }') s"
}

cmd_leader() { # QUEUE [VHOST]
    local queue=$1 vhost=${2:-/} n leader
    for n in "${NODES[@]}"; do
        select_node "$n"
        beam_pid >/dev/null && amqp_up || continue
        leader=$(ctl "$n" -q list_queues -p "$vhost" name type leader --no-table-headers 2>/dev/null |
            awk -F'\t' -v q="$queue" '$1 == q { print ($2 == "quorum" || $2 == "stream" ? $3 : "not replicated (a " $2 " queue)") }') || continue
        if [ -z "$leader" ]; then
            log "no queue '$queue' in vhost '$vhost'"
            return 1
        fi
        echo "$leader"
        return 0
    done
    log "no node of the cluster answers"
    return 1
}

cmd_stop() {
    local n pid pids=() deadline
    pid_alive "$CLUSTER_DIR/join.pid" bash && kill -- "-$(cat "$CLUSTER_DIR/join.pid")" 2>/dev/null || true
    for n in "${NODES[@]}"; do
        select_node "$n"
        if rabbit_running; then
            log "stopping $NODE"
            ctl "$n" -q stop >/dev/null 2>&1 &
            pids+=($!)
        fi
    done
    [ "${#pids[@]}" -gt 0 ] && wait "${pids[@]}" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    for n in "${NODES[@]}"; do
        select_node "$n"
        while rabbit_running; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                # Each node's data is deleted by the next `start`, so a node that would not stop is killed.
                pid=$(beam_pid) && { log "$NODE did not stop in 30 s; killing pid $pid"; kill -9 "$pid"; }
                break
            fi
            sleep 0.2
        done
        rm -f "$RABBIT_DIR/launcher.pid"
    done
    if epmd_ours; then
        # Refused by epmd itself while any node is still registered with it.
        if ERL_EPMD_PORT="$EPMD_PORT" epmd -kill >/dev/null 2>&1; then
            rm -f "$EPMD_MARK"
        else
            log "epmd on $HOST:$EPMD_PORT still has nodes registered: $(ERL_EPMD_PORT="$EPMD_PORT" epmd -names 2>&1 | tr '\n' ' ')"
        fi
    else
        rm -f "$EPMD_MARK"
    fi
    log "stopped"
}

case "${1:-}" in
    start) cmd_start ;;
    wait) cmd_wait ;;
    status) cmd_status ;;
    kill) [ $# -eq 2 ] || { log "usage: $0 kill N"; exit 2; }; cmd_kill "$2" ;;
    restart) [ $# -eq 2 ] || { log "usage: $0 restart N"; exit 2; }; cmd_restart "$2" ;;
    leader) [ $# -ge 2 ] || { log "usage: $0 leader QUEUE [VHOST]"; exit 2; }; cmd_leader "$2" "${3:-/}" ;;
    ctl) [ $# -ge 2 ] || { log "usage: $0 ctl N ARGS"; exit 2; }; n=$2; shift 2; select_node "$n"; node_env; exec "$RABBIT_BIN/rabbitmqctl" -n "$NODE" "$@" ;;
    stop) cmd_stop ;;
    _join) cmd_join ;;
    env)
        printf 'HOKUSAI_CLUSTER_AMQP_PORT=%s\nHOKUSAI_CLUSTER_MANAGEMENT_PORT=%s\nHOKUSAI_CLUSTER_EPMD_PORT=%s\nHOKUSAI_CLUSTER_DIR=%s\n' \
            "$CLUSTER_AMQP_PORT" "$CLUSTER_MGMT_PORT" "$EPMD_PORT" "$CLUSTER_DIR"
        for n in "${NODES[@]}"; do
            select_node "$n"
            printf '# hokusai-c%s@localhost: amqp://guest:guest@%s:%s/\n' "$n" "$HOST" "$AMQP_PORT"
        done
        ;;
    *)
        echo "usage: $0 start|wait|status|kill N|restart N|leader QUEUE [VHOST]|ctl N ARGS|stop|env" >&2
        exit 2
        ;;
esac
