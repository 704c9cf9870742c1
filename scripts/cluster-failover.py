#!/usr/bin/python3
"""Checks, on the cluster of scripts/cluster.sh, that quorum queues keep their messages when their leader dies.

    /usr/bin/python3 scripts/cluster-failover.py [COUNT]

1. Declares the quorum queue hokusai-failover-check (on c1, so c1 leads it) and publishes COUNT (default 1000)
   persistent messages with publisher confirms.
2. Declares a retry-delay queue the way the product does (x-message-ttl, dead-lettering back to the queue), as a
   quorum queue with at-least-once dead-lettering (x-overflow=reject-publish), and puts 100 more messages in it.
3. Kills the leader's node (kill -9), prints the new leader, publishes and counts through a surviving node.
4. Restarts the killed node, waits until it rejoined, and consumes everything: COUNT + 100 + 100 messages expected,
   each exactly once (by body).
Prints the timings. Uses Debian's python3-pika; run `scripts/cluster.sh start && scripts/cluster.sh wait` first.
"""
import os
import subprocess
import sys
import time

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = ["bash", os.path.join(ROOT, "scripts", "cluster.sh")]
BASE = int(os.environ.get("HOKUSAI_CLUSTER_AMQP_PORT", "5701"))
QUEUE = "hokusai-failover-check"
DELAY = QUEUE + "_delay_2000ms"
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def connect(node):
    return pika.BlockingConnection(pika.ConnectionParameters(
        host="127.0.0.1", port=BASE + node - 1, credentials=pika.PlainCredentials("guest", "guest"),
        connection_attempts=1, socket_timeout=5, blocked_connection_timeout=30))


def cluster(*args):
    return subprocess.run(CLUSTER + list(args), check=True, capture_output=True, text=True).stdout.strip()


def publish(channel, routing_key, bodies):
    channel.confirm_delivery()
    props = pika.BasicProperties(delivery_mode=2)
    for body in bodies:
        channel.basic_publish("", routing_key, body.encode(), props, mandatory=True)  # raises if nacked/unroutable


def declare(channel):
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_declare(DELAY, durable=True, arguments={
        "x-queue-type": "quorum",
        "x-message-ttl": 2000,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": QUEUE,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    })


def depth(channel, queue):
    return channel.queue_declare(queue, passive=True).method.message_count


def main():
    conn = connect(1)
    ch = conn.channel()
    ch.queue_delete(QUEUE)
    ch.queue_delete(DELAY)
    declare(ch)
    t = time.monotonic()
    publish(ch, QUEUE, [f"m{i}" for i in range(COUNT)])
    print(f"published {COUNT} confirmed messages to {QUEUE} in {time.monotonic() - t:.2f} s")
    publish(ch, DELAY, [f"d{i}" for i in range(100)])
    conn.close()

    leader = cluster("leader", QUEUE)
    delay_leader = cluster("leader", DELAY)
    print(f"leader of {QUEUE}: {leader}; of {DELAY}: {delay_leader}")
    victim = int(leader.split("@")[0][-1])
    survivor = 2 if victim == 1 else 1

    t = time.monotonic()
    cluster("kill", str(victim))
    print(f"killed node {victim}")
    # The survivors elect a new leader after the Raft election timeout; meanwhile the queue does not answer.
    while True:
        try:
            new_leader = cluster("leader", QUEUE)
            if new_leader and new_leader != leader and "@" in new_leader:
                break
        except subprocess.CalledProcessError:
            pass
        time.sleep(0.5)
    print(f"new leader {new_leader} {time.monotonic() - t:.1f} s after the kill")

    conn = connect(survivor)
    ch = conn.channel()
    publish(ch, QUEUE, [f"n{i}" for i in range(100)])
    print(f"through node {survivor}: {QUEUE} holds {depth(ch, QUEUE)} (published {COUNT} + 100 + the delayed 100 "
          f"as they expire); {DELAY} holds {depth(ch, DELAY)}")
    conn.close()

    t = time.monotonic()
    cluster("restart", str(victim))
    print(f"node {victim} restarted and rejoined in {time.monotonic() - t:.1f} s; leader now {cluster('leader', QUEUE)}")

    time.sleep(2.5)  # every delayed message has expired by now
    conn = connect(victim)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=500)
    seen = {}
    deadline = time.monotonic() + 30
    expected = COUNT + 200
    while len(seen) < expected and time.monotonic() < deadline:
        method, _, body = ch.basic_get(QUEUE, auto_ack=False)
        if method is None:
            time.sleep(0.2)
            continue
        seen[body] = seen.get(body, 0) + 1
        ch.basic_ack(method.delivery_tag)
    dupes = sum(1 for n in seen.values() if n > 1)
    left = depth(ch, QUEUE), depth(ch, DELAY)
    print(f"consumed {len(seen)} distinct messages of {expected} expected through node {victim}; duplicates {dupes}; "
          f"left in queues {left}")
    ch.queue_delete(QUEUE)
    ch.queue_delete(DELAY)
    conn.close()
    return 0 if len(seen) == expected and dupes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
