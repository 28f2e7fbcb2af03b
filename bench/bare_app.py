"""The baseline for bench/webhooks.py: a bare Flask app with the webhook's route and nothing behind it.

It reads the raw body and answers a small JSON 200, so the benchmark's ratio isolates what the real
route adds (signature check, parsing, the inbox/decide/outbox transaction) from what gunicorn, Flask
and the benchmark's own HTTP clients cost on the same machine.
"""
from __future__ import annotations

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask("escalator-bench-bare")

    @app.post("/webhooks/zendesk")
    def receive():
        body = request.get_data()
        return jsonify(status="ok", message=f"read {len(body)} bytes", outcome="bare"), 200

    return app
