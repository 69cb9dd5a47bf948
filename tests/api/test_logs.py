"""Redaction of realistic log lines, and a log setup that never writes to the terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from voki_tui.logs import configure_logging, redact

JWT = jwt.encode({"sub": "3", "tenant": "demo", "exp": 2_000_000_000}, "k" * 32, algorithm="HS256")
REFRESH = "rt_9f8e7d6c5b4a"


@pytest.mark.parametrize(
    "line",
    [
        f"connecting to ws://127.0.0.1:4000/socket/websocket?token={REFRESH}&vsn=2.0.0",
        f"GET /socket/websocket?vsn=2.0.0&token={REFRESH} HTTP/1.1",
        "send_request_headers.started request=<Request [b'GET']> "
        f"headers=[(b'Authorization', b'Bearer {REFRESH}')]",
        f"Authorization: Bearer {REFRESH}",
        f'body={{"email": "a@b", "password": "{REFRESH}", "tenant": "demo"}}',
        f'{{"data": {{"access_token": "x", "refresh_token": "{REFRESH}"}}}}',
        f"{{'mfa_token': '{REFRESH}', 'code': '123456'}}",
        f'{{"password": "with \\"quotes\\" {REFRESH}"}}',
        f"form: email=a%40b&password={REFRESH}",
        f"got token {JWT} from server",
        f"{JWT}",
    ],
)
def test_secrets_are_redacted(line: str) -> None:
    out = redact(line)
    assert REFRESH not in out
    assert JWT not in out
    assert "eyJ" not in out


def test_ordinary_text_is_left_alone() -> None:
    line = "GET /api/v1/calls?status=queued&page=2 -> 200 in 12 ms (tenant demo, tokens: 3)"
    assert redact(line) == line


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_file_log_redacts_library_records_args_and_tracebacks(
    tmp_path: Path, restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = configure_logging(logging.DEBUG, directory=tmp_path / "log")
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "log").stat().st_mode & 0o777 == 0o700
    logging.getLogger("httpx").debug("headers %s", {"Authorization": f"Bearer {REFRESH}"})
    logging.getLogger("websockets.client").debug("> GET /socket/websocket?token=%s", JWT)
    try:
        raise ValueError(f'bad body {{"refresh_token": "{REFRESH}"}}')
    except ValueError:
        logging.getLogger("voki_tui").exception("while parsing")
    logging.getLogger("voki_tui").info("broken %s %s", "only-one-arg")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "headers" in text and "while parsing" in text and "ValueError" in text
    assert REFRESH not in text and JWT not in text
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_real_httpx_request_logging_does_not_leak(tmp_path: Path, restore_root: None) -> None:
    """httpx/httpcore DEBUG logging of a real loopback request with a bearer header."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = configure_logging(logging.DEBUG, directory=tmp_path)
        url = f"http://127.0.0.1:{server.server_address[1]}/socket/websocket?token={JWT}"
        httpx.get(url, headers={"Authorization": f"Bearer {REFRESH}"})
    finally:
        server.shutdown()
        server.server_close()
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "HTTP Request" in text  # httpx did log the request line
    assert REFRESH not in text and JWT not in text
