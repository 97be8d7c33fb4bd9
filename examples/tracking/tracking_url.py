# Feedback Loops tracking URLs, made offline (docs/tracking.md): the open pixel without url, a click with it.
import base64
import hashlib
import hmac
import os
import sys


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def tracking_url(base, account_id, key_id, secret, message, url=None):
    parts = [key_id, account_id, message] if url is None else [key_id, account_id, message, url]
    payload = "\0".join(parts).encode("utf-8")
    signature = hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).digest()[:16]
    kind = "o" if url is None else "c"
    return f"{base.rstrip('/')}/t/{kind}/{b64url(payload)}.{b64url(signature)}"


# python3 tracking_url.py <message> [<link> …] with TRACKING_BASE, TRACKING_ACCOUNT, TRACKING_KEY_ID, TRACKING_SECRET set
if __name__ == "__main__":
    env = [os.environ[name] for name in ("TRACKING_BASE", "TRACKING_ACCOUNT", "TRACKING_KEY_ID", "TRACKING_SECRET")]
    for link in [None, *sys.argv[2:]]:
        print(tracking_url(*env, sys.argv[1], link))
