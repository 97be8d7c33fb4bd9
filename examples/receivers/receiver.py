#!/usr/bin/env python3
"""A Feedback Loops receiver in Python, with the standard library only.

It checks that each POST really comes from Feedback Loops (the Standard Webhooks signature, made
with the loop's secret), answers at once, then handles the event. For GETs it serves the loop's
verification file (fl-….txt) from FEEDBACK_LOOPS_VERIFICATION_DIR (default: the current directory),
so that the loop can be verified against it.

    FEEDBACK_LOOPS_SECRET=whsec_… PORT=8080 python3 receiver.py
"""

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# The loop's secret, shown when the loop is created or its secret rotated. The signing key is the
# base64-decoded part after "whsec_", not the text of the secret.
SECRET = os.environ["FEEDBACK_LOOPS_SECRET"]
KEY = base64.b64decode(SECRET.removeprefix("whsec_"), validate=True)
VERIFICATION_DIR = os.environ.get("FEEDBACK_LOOPS_VERIFICATION_DIR", ".")
# A request signed more than this long ago (or ahead) is refused: a captured request cannot be replayed later.
TOLERANCE_SECONDS = 5 * 60
# An event is at most about 150 KiB; anything much bigger is not from Feedback Loops.
MAX_BODY_BYTES = 1024 * 1024


def signature_matches(msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether one of the signatures is HMAC-SHA256 of "<id>.<timestamp>.<raw body>" with our key."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest())
    # During a secret rotation the header carries one signature per secret, space-separated: one
    # match is enough. compare_digest takes the same time however much matches, so timing tells nothing.
    for entry in header.split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False


def read_form(body: str) -> dict:
    """A form body read as PHP reads it into $_POST: fields[plan]=pro into a dict, tags[]=news into
    a list. Every value is a string: booleans arrive as "1" / "0", numbers as digits."""
    event: dict = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        bracket = re.fullmatch(r"([^\[\]]+)\[([^\[\]]*)\]", name)
        if not bracket:
            event[name] = value
        elif bracket[2] == "":
            event.setdefault(bracket[1], []).append(value)
        else:
            event.setdefault(bracket[1], {})[bracket[2]] = value
    return event


OUTPUT = threading.Lock()


def handle_event(event: dict) -> None:
    """Your work goes here: update the profile, count the open, unsubscribe the address…"""
    line = (
        f"verified {event.get('type')} {event.get('id')} {event.get('recipient', '-')} "
        + json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    )
    # One write per line: requests are handled on threads, and print() writes the text and its
    # line end separately, so two events could interleave on one line.
    with OUTPUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return self.refuse(413, "body too large")
        # The signature covers the body exactly as it was sent: keep it raw until it is verified.
        body = self.rfile.read(length)
        # self.headers looks names up in any case: "Webhook-Id" finds "webhook-id".
        msg_id = self.headers.get("webhook-id")
        timestamp = self.headers.get("webhook-timestamp")
        signatures = self.headers.get("webhook-signature")
        if not (msg_id and timestamp and signatures):
            return self.refuse(400, "webhook-id, webhook-timestamp or webhook-signature missing")
        if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return self.refuse(401, "webhook-timestamp is not within 5 minutes of now")
        if not signature_matches(msg_id, timestamp, body, signatures):
            return self.refuse(401, "no matching signature")

        # Verified. A JSON body keeps its types; a form body (the default format) is all strings.
        text = body.decode("utf-8")
        is_json = (self.headers.get("Content-Type") or "").startswith("application/json")
        event = json.loads(text) if is_json else read_form(text)

        # Answer first, work afterwards: Feedback Loops waits at most 10 seconds for a 2xx, and
        # otherwise sends the event again later (with the same webhook-id, so a repeat can be recognised).
        self.send_response(204)
        self.end_headers()
        self.wfile.flush()
        handle_event(event)

    def do_GET(self) -> None:
        """The verification file, asked for in the directory of the loop's URL or in the web root."""
        name = re.search(r"/(fl-[\w-]+\.txt)$", urlsplit(self.path).path, re.ASCII)
        path = os.path.join(VERIFICATION_DIR, name[1]) if name else ""
        if not os.path.isfile(path):
            return self.refuse(404, f"no such file: {self.path}")
        with open(path, "rb") as file:
            content = file.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def refuse(self, status: int, reason: str) -> None:
        self.log_message("refused (%d): %s", status, reason)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer((host, port), Receiver)
    print(f"listening on http://{host}:{port}", flush=True)
    server.serve_forever()
