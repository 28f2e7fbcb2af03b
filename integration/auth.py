"""Admin authentication for the dashboard and reports: HTTP Basic against the configured credentials.

Never public: with no credentials configured the pages answer 503 and say what to set.
"""
from __future__ import annotations

import functools
import hmac
import logging

from flask import Response, current_app, request

log = logging.getLogger("escalator.auth")
REALM = 'Basic realm="Escalator admin", charset="UTF-8"'


def admin_required(view):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        config = current_app.extensions["escalator.services"].config
        if not (config.admin_user and config.admin_password):
            return Response("Admin pages are disabled: set ESCALATOR_ADMIN_USER and ESCALATOR_ADMIN_PASSWORD.\n",
                            status=503, mimetype="text/plain")
        auth = request.authorization
        if auth is None or auth.type != "basic" or not _same(auth.username, config.admin_user) \
                or not _same(auth.password, config.admin_password):
            if auth is not None:
                log.warning("refused admin login for user %r from %s", auth.username, request.remote_addr)
            return Response("Authentication required.\n", status=401, headers={"WWW-Authenticate": REALM},
                            mimetype="text/plain")
        return view(*args, **kwargs)

    return guarded


def _same(given: str | None, expected: str) -> bool:
    return hmac.compare_digest((given or "").encode(), expected.encode())
