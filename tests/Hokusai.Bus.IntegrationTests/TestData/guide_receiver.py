"""A webhook receiver that verifies with the integration guide's own function, verbatim.

Usage: python3 guide_receiver.py SECRET  -> prints "listening <port>", then one line per request:
"verified <idempotency_key>" or "rejected <idempotency_key>". Standard library only; binds 127.0.0.1.
"""
import hashlib
import hmac
import http.server
import json
import sys

WEBHOOK_SECRET = sys.argv[1]


# --- from WEBHOOK_GUIDE.md, "HMAC Signature Verification" (unchanged) ---
def verify_webhook_signature(payload: bytes, signature: str, secret: str) -> bool:
    """Verify the HMAC signature of a webhook payload."""
    expected_signature = hmac.new(
        secret.encode(),
        payload,
        hashlib.sha256
    ).hexdigest()

    return hmac.compare_digest(signature, expected_signature)
# --- end of the guide's code ---


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        signature = self.headers.get("X-Hokusai-Signature")
        ok = verify_webhook_signature(payload, signature, WEBHOOK_SECRET)
        key = json.loads(payload).get("idempotency_key")
        print(("verified " if ok else "rejected ") + str(key), flush=True)
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b'{"status": "success"}' if ok else b'{"detail": "Invalid signature"}')

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
