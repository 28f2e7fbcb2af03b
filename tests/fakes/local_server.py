"""What every fake shares: a threaded WSGI server on 127.0.0.1, port 0, started and stopped cleanly."""
from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # keep pytest output clean
        pass


class LocalServer:
    """Mixin: the subclass sets `self._app` (a WSGI app with a `stopping` Event) and `server_name`."""

    server_name = "fake"
    _server: Any = None
    _thread: threading.Thread | None = None

    def start(self):
        self._app.stopping.clear()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name=self.server_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._app.stopping.set()  # wakes handlers sleeping in delay_next
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_port
