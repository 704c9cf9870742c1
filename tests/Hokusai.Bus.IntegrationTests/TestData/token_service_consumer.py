"""The token service's Redis consumer, re-implemented from its Joi schema (hokusai-token,
services/contract-deployer/src/schemas/message-schemas.ts: required and optional keys, no unknown key, no empty string,
positive numbers, address and symbol patterns, isoDate, message_version "1.0"): BRPOPLPUSH from
hokusai:model_ready_queue, validate the bare message, and print `processed <model_id> <token_symbol> <improvement>` or
`dlq <reason>` (pushing the raw message to :dlq). Exits after COUNT messages or 10 s without one."""
import json, os, re
from datetime import datetime
import redis

r = redis.Redis.from_url(os.environ["REDIS_URL"])
QUEUE = "hokusai:model_ready_queue"
PROCESSING, DLQ = QUEUE + ":processing", QUEUE + ":dlq"
REQUIRED = {"model_id", "token_symbol", "metric_name", "baseline_value", "current_value", "model_name", "model_version",
            "mlflow_run_id", "improvement_percentage", "timestamp", "message_version"}
OPTIONAL = {"contributor_address", "model_supplier_recipient", "experiment_name", "tags"}


def problems(m):
    if not isinstance(m, dict):
        return ["not an object"]
    found = [f"unknown key {k}" for k in m if k not in REQUIRED | OPTIONAL]
    found += [f"missing {k}" for k in REQUIRED if k not in m]
    if found:
        return found
    for k in ("model_id", "metric_name", "model_name", "model_version", "mlflow_run_id"):
        if not isinstance(m[k], str) or not m[k]:
            found.append(f"{k} must be a non-empty string")
    if not isinstance(m["token_symbol"], str) or not re.fullmatch(r"[A-Z0-9-]{1,10}", m["token_symbol"]):
        found.append("token_symbol")
    for k in ("baseline_value", "current_value", "improvement_percentage"):
        if isinstance(m[k], bool) or not isinstance(m[k], (int, float)) or not m[k] > 0:
            found.append(f"{k} must be > 0")
    try:
        datetime.fromisoformat(m["timestamp"].replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        found.append("timestamp must be ISO 8601")
    if m["message_version"] != "1.0":
        found.append("message_version")
    for k in ("contributor_address", "model_supplier_recipient"):
        if k in m and not (isinstance(m[k], str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", m[k])):
            found.append(k)
    if "experiment_name" in m and not (isinstance(m["experiment_name"], str) and m["experiment_name"]):
        found.append("experiment_name must be a non-empty string")
    if "tags" in m and not (isinstance(m["tags"], dict) and all(isinstance(v, str) and v for v in m["tags"].values())):
        found.append("tags must have non-empty string values")
    return found


for _ in range(int(os.environ.get("COUNT", "1000000"))):
    raw = r.brpoplpush(QUEUE, PROCESSING, timeout=10)
    if raw is None:
        break
    try:
        message = json.loads(raw)
        wrong = problems(message)
    except ValueError as error:
        wrong = [str(error)]
    if wrong:
        print("dlq " + "; ".join(wrong), flush=True)
        r.lpush(DLQ, raw)
    else:
        print(f"processed {message['model_id']} {message['token_symbol']} {message['improvement_percentage']:.2f}", flush=True)
    r.lrem(PROCESSING, 1, raw)
