"""Request sizes: small forms, 50 MB uploads, a clear 413 page, and waitress cutting off abuse.

The waitress tests talk to a real server on 127.0.0.1 (a free port, in a thread) and give
every socket operation a timeout, so a server that keeps reading fails the test, not hangs it.
"""

from __future__ import annotations

import io
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from bs4 import BeautifulSoup
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from spoke.config import MB
from spoke.runtime.serve import make_server, request_limits
from tests.factories import make_campaign, make_org, make_user

IO_TIMEOUT = 10  # seconds for any one socket operation


def text_of(response) -> str:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ", strip=True)


def test_defaults_are_small_forms_and_50_mb_uploads(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1 * MB
    assert app.config["MAX_UPLOAD_SIZE"] == 50 * MB
    limits = request_limits(app.config)
    assert 50 * MB < limits["max_request_body_size"] < 51 * MB
    assert limits["max_request_header_size"] == 64 * 1024


def test_sizes_come_from_the_environment(monkeypatch, app_config):
    from spoke.config import from_env

    monkeypatch.setenv("MAX_UPLOAD_SIZE", str(20 * MB))
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "500000")
    assert from_env()["MAX_UPLOAD_SIZE"] == 20 * MB
    assert from_env()["MAX_CONTENT_LENGTH"] == 500_000
    monkeypatch.setenv("MAX_UPLOAD_SIZE", "50MB")
    with pytest.raises(ValueError, match="MAX_UPLOAD_SIZE must be a whole number of bytes"):
        from_env()


@pytest.fixture
def staff(ctx, client, auth):
    org = make_org()
    auth.login_as(make_user(org, role="admin"))
    return make_campaign(org)


def test_an_oversized_form_gets_a_clear_413_page(client, staff):
    response = client.post("/campaigns/new", data={"title": "x" * (1 * MB + 1)})
    assert response.status_code == 413
    text = text_of(response)
    assert "What you sent is larger than 1 MB, the most a form may send." in text
    assert "Traceback" not in text


def upload_csv(client, campaign_id: int, rows: str):
    # Encoded in memory: the test client's own encoder spools big bodies to an unclosed file.
    csv = FileStorage(io.BytesIO(rows.encode()), filename="big.csv", content_type="text/csv")
    boundary, body = encode_multipart({"file": csv})
    return client.post(
        f"/campaigns/{campaign_id}/contacts",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_csv_over_1_mb_uploads_but_one_over_the_upload_limit_is_refused(app, client, staff):
    rows = "firstName,lastName,cell\n" + "Ana,Alvarez,2125550101\n" * 60_000  # ~1.4 MB
    ok = upload_csv(client, staff.id, rows)
    assert ok.status_code == 303
    assert "/imports/" in ok.location

    app.config["MAX_UPLOAD_SIZE"] = 1 * MB
    refused = upload_csv(client, staff.id, rows)
    assert refused.status_code == 413
    assert "The file is larger than 1 MB, the most spoke accepts in one upload." in text_of(refused)


def test_htmx_controls_show_the_413_as_the_page(client, staff):
    response = client.post(
        f"/campaigns/{staff.id}/script/preview",
        data={"script": "x" * (1 * MB + 1)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "#main"
    assert response.headers["HX-Reselect"] == "#main"


# ---- waitress --------------------------------------------------------------------------


@contextmanager
def waitress_on_loopback(app) -> Iterator[int]:
    server = make_server(app, "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=server.run, name="waitress-limits-test", daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(timeout=5)


def send_until_answered(port: int, head: bytes, pieces: Iterator[bytes]) -> tuple[bytes, int]:
    """Send `head` then `pieces` until the server answers or closes; return (answer, bytes sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(head)
        sent = 0
        try:
            for piece in pieces:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we want
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer, sent


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 when there was none)."""
    parts = answer.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


CHUNKED_HEAD = (
    b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def test_waitress_cuts_off_a_long_chunk_size_line(app):
    """A chunk-size line that never ends is refused after a few kB, not read to 50 MB."""
    total = 16 * MB
    with waitress_on_loopback(app) as port:
        pieces = (b"1" * 65536 for _ in range(total // 65536))
        answer, sent = send_until_answered(port, CHUNKED_HEAD, pieces)
    assert status_of(answer) == 400, answer[:200]
    assert b"Chunk size line too long" in answer
    assert sent < total


def test_waitress_refuses_a_chunked_body_over_the_limit(app):
    app.config["MAX_UPLOAD_SIZE"] = 1 * MB
    total = 8 * MB
    with waitress_on_loopback(app) as port:
        chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
        answer, sent = send_until_answered(port, CHUNKED_HEAD, (chunk for _ in range(128)))
    assert status_of(answer) == 413, answer[:200]
    assert sent < total


def test_waitress_refuses_a_declared_length_over_the_limit_at_once(app):
    head = (
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Content-Length: {200 * MB}\r\n\r\n".encode()
    )
    with waitress_on_loopback(app) as port:
        answer, sent = send_until_answered(port, head, iter([b"x" * 1024] * 4))
    assert status_of(answer) == 413, answer[:200]


def test_waitress_refuses_oversized_headers(app):
    head = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (128 * 1024) + b"\r\n\r\n"
    with waitress_on_loopback(app) as port:
        answer, _ = send_until_answered(port, head, iter(()))
    assert status_of(answer) == 431, answer[:200]
