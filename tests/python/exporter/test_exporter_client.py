"""The exporter's HTTP transport (``client.BrazeClient``): keep-alive connections, TLS
verification, proxies, and what a dropped or refused connection becomes. Servers here are tiny
local ones, so each test controls exactly what the other end does."""

from __future__ import annotations

import base64
import contextlib
import http.server
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from braze_currents.exporter.client import BrazeClient, CertificateError, TransportError
from braze_currents.exporter.settings import (
    ConfigError,
    HttpSettings,
    check_ca_bundle,
    check_proxy,
    parse_settings,
)

KEY = "client-test-key-Qv7-secret"
BODY = b'{"events":[{"external_id":"u1","name":"played","time":"2024-05-01T10:00:00Z"}]}'
HTTP = HttpSettings(connect_timeout=2, read_timeout=2)


def _client(url: str, **env: str) -> BrazeClient:
    """A client for ``url`` configured from ``env`` as parse_settings does."""
    http = HttpSettings(
        connect_timeout=2,
        read_timeout=2,
        proxy=check_proxy(env, url),
        ca_bundle=check_ca_bundle(env),
    )
    return BrazeClient(url, KEY, http)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        received = self.rfile.read(length)
        self.server.seen.append((self.path, dict(self.headers), received))  # type: ignore[attr-defined]
        answer = b'{"message":"success","events_processed":1}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-RateLimit-Remaining", "41")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if self.server.close_after_each:  # type: ignore[attr-defined]
            # The answer promises keep-alive; the server then drops the idle connection, as a
            # load balancer does after its idle timeout.
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None, close_after_each: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, dict, bytes]] = []
        self.connections = 0
        self.close_after_each = close_after_each
        self.tls = tls

    def get_request(self):  # type: ignore[override]
        sock, addr = super().get_request()
        self.connections += 1
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, addr


@contextlib.contextmanager
def _serving(server: _Server) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _tls(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


def test_posts_over_one_keep_alive_connection_per_thread():
    with _Server() as server, _serving(server) as port:
        client = BrazeClient(f"http://127.0.0.1:{port}/base/", KEY, HTTP)
        answers = [client.post("/users/track", BODY) for _ in range(5)]
        client.close()
    assert [a.status for a in answers] == [201] * 5
    assert answers[0].headers["x-ratelimit-remaining"] == "41"  # names lower-cased
    assert answers[0].data == {"message": "success", "events_processed": 1}
    assert server.connections == 1
    path, headers, body = server.seen[0]
    assert (path, body) == ("/base/users/track", BODY)
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("braze-currents-warehouse-exporter/")


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed():
    with _Server(close_after_each=True) as server, _serving(server) as port:
        client = BrazeClient(f"http://127.0.0.1:{port}", KEY, HTTP)
        statuses = []
        for _ in range(4):
            statuses.append(client.post("/users/track", BODY).status)
            time.sleep(0.05)  # the server's close reaches this side, as after an idle timeout
        client.close()
    assert statuses == [201] * 4  # no request failed on a dead connection
    assert server.connections == 4 and len(server.seen) == 4


def test_each_thread_has_its_own_connection():
    with _Server() as server, _serving(server) as port:
        client = BrazeClient(f"http://127.0.0.1:{port}", KEY, HTTP)

        def work() -> None:
            for _ in range(3):
                assert client.post("/users/track", BODY).status == 201

        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
    assert server.connections == 3 and len(server.seen) == 9


def test_tls_is_verified_against_the_bundle(ca, bundle):
    with _Server(tls=_tls(ca, "127.0.0.1")) as server, _serving(server) as port:
        url = f"https://127.0.0.1:{port}"
        # not trusted: certifi's bundle does not hold this CA
        client = _client(url)
        with pytest.raises(CertificateError, match="CERTIFICATE_VERIFY_FAILED"):
            client.post("/users/track", BODY)
        client.close()
        assert server.seen == []
        client = _client(url, REQUESTS_CA_BUNDLE=str(bundle))
        assert client.post("/users/track", BODY).status == 201
        client.close()
    assert server.seen[0][2] == BODY


def test_a_certificate_for_another_host_is_refused(ca, bundle):
    with _Server(tls=_tls(ca, "rest.example.com")) as server, _serving(server) as port:
        client = _client(f"https://127.0.0.1:{port}", CURL_CA_BUNDLE=str(bundle))
        with pytest.raises(CertificateError, match=r"CERTIFICATE_VERIFY_FAILED|match"):
            client.post("/users/track", BODY)
        client.close()
    assert server.seen == []


class _ConnectProxy(threading.Thread):
    """An HTTP CONNECT proxy that tunnels every host to ``target_port`` on this machine and
    records the CONNECT request it got."""

    def __init__(self, target_port: int) -> None:
        super().__init__(daemon=True)
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []

    def run(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        self.requests.append(head)
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with conn, upstream:
            pair = {conn: upstream, upstream: conn}
            while True:
                readable, _, _ = select.select(list(pair), [], [], 5)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)

    def close(self) -> None:
        self.listener.close()


def test_https_goes_through_the_proxy_the_environment_names(ca, bundle):
    with _Server(tls=_tls(ca, "rest.braze.test")) as server, _serving(server) as port:
        proxy = _ConnectProxy(port)
        proxy.start()
        try:
            client = _client(
                f"https://rest.braze.test:{port}",
                REQUESTS_CA_BUNDLE=str(bundle),
                HTTPS_PROXY=f"http://ops:p%40ss@127.0.0.1:{proxy.port}",
            )
            assert client.post("/users/track", BODY).status == 201
            assert client.post("/users/track", BODY).status == 201
            client.close()
        finally:
            proxy.close()
    assert len(proxy.requests) == 1  # one tunnel, kept alive for both requests
    connect = proxy.requests[0].decode()
    assert connect.startswith(f"CONNECT rest.braze.test:{port} HTTP/1.")
    token = base64.b64encode(b"ops:p@ss").decode()
    assert f"Proxy-Authorization: Basic {token}" in connect
    assert KEY not in connect  # the API key travels inside the tunnel only
    assert [seen[2] for seen in server.seen] == [BODY, BODY]


BRAZE = "https://rest.iad-01.braze.com"


def test_which_proxy_the_environment_names():
    assert check_proxy({}, BRAZE) is None
    assert check_proxy({"HTTPS_PROXY": "proxy.corp:3128"}, BRAZE) == "http://proxy.corp:3128"
    assert check_proxy({"ALL_PROXY": "http://p:8080"}, BRAZE) == "http://p:8080"
    # lower case first, as curl and Python read them
    both = {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"}
    assert check_proxy(both, BRAZE) == "http://low:1"
    # a proxy cannot reach this machine's addresses
    assert check_proxy({"HTTPS_PROXY": "http://p:1"}, "http://127.0.0.1:9") is None
    assert check_proxy({"HTTPS_PROXY": "http://p:1"}, "http://localhost:9") is None
    exempt = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".braze.com"}
    assert check_proxy(exempt, BRAZE) is None
    assert check_proxy(exempt, "https://rest.example.com") == "http://p:1"
    assert check_proxy({"HTTPS_PROXY": "http://p:1"}, None) is None  # a dry run


def test_an_empty_lower_case_proxy_switches_the_upper_case_one_off():
    assert check_proxy({"https_proxy": "", "HTTPS_PROXY": "http://up:2"}, BRAZE) is None
    assert check_proxy({"no_proxy": "", "NO_PROXY": "*", "HTTPS_PROXY": "http://p:1"}, BRAZE)


def test_no_proxy_takes_cidr_blocks_and_addresses():
    env = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8, 192.168.1.7"}
    assert check_proxy(env, "https://10.20.30.40") is None
    assert check_proxy(env, "https://192.168.1.7:8443") is None
    assert check_proxy(env, "https://11.0.0.1") == "http://p:1"
    assert check_proxy(env, BRAZE) == "http://p:1"


@pytest.mark.parametrize(
    "value", ["https://proxy:443", "socks5://proxy:1080", "socks5h://u:p@proxy:1080"]
)
def test_https_and_socks_proxies_are_accepted(value):
    assert check_proxy({"https_proxy": value}, BRAZE) == value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://proxy:abc", "port that is not a number"),
        ("http://:3128", "without a host"),
        ("ftp://proxy:21", "ftp URL"),
    ],
)
def test_a_proxy_the_exporter_cannot_use_is_a_clear_error(value, says):
    with pytest.raises(ConfigError, match=says) as caught:
        check_proxy({"https_proxy": value}, BRAZE)
    assert "https_proxy must be a proxy URL" in str(caught.value)


def test_a_ca_bundle_that_is_not_a_file_is_a_clear_error(tmp_path, bundle):
    assert check_ca_bundle({"CURL_CA_BUNDLE": str(bundle)}) == str(bundle)
    assert check_ca_bundle({"SSL_CERT_FILE": str(bundle)}) == str(bundle)
    assert check_ca_bundle({"SSL_CERT_DIR": str(tmp_path)}) == str(tmp_path)
    assert check_ca_bundle({}) is None
    with pytest.raises(ConfigError, match="REQUESTS_CA_BUNDLE names no readable file"):
        check_ca_bundle({"REQUESTS_CA_BUNDLE": str(tmp_path / "missing.pem")})


def test_ssl_cert_file_verifies_the_endpoint(ca, bundle):
    with _Server(tls=_tls(ca, "127.0.0.1")) as server, _serving(server) as port:
        client = _client(f"https://127.0.0.1:{port}", SSL_CERT_FILE=str(bundle))
        assert client.post("/users/track", BODY).status == 201
        client.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to hash the CA")
def test_a_ca_directory_verifies_the_endpoint(ca, bundle, tmp_path):
    directory = tmp_path / "certs"
    directory.mkdir()
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(bundle)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (directory / f"{digest}.0").write_bytes(bundle.read_bytes())
    with _Server(tls=_tls(ca, "127.0.0.1")) as server, _serving(server) as port:
        client = _client(f"https://127.0.0.1:{port}", REQUESTS_CA_BUNDLE=str(directory))
        assert client.post("/users/track", BODY).status == 201
        client.close()


def test_settings_carry_the_proxy_and_bundle_from_the_environment(bundle):
    env = {
        "BRAZE_REST_ENDPOINT": BRAZE,
        "BRAZE_API_KEY": KEY,
        "HTTPS_PROXY": "http://proxy.corp:3128",
        "REQUESTS_CA_BUNDLE": str(bundle),
    }
    args = ["--model", "m", "--mode", "user_delete"]
    http = parse_settings(args, env).http
    assert (http.proxy, http.ca_bundle) == ("http://proxy.corp:3128", str(bundle))
    with pytest.raises(ConfigError, match="HTTPS_PROXY must be a proxy URL"):
        parse_settings(args, {**env, "HTTPS_PROXY": "http://proxy.corp:port"})


def test_nothing_listening_is_a_transport_error_without_the_key():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError) as caught:
        client.post("/users/track", BODY)
    assert "Connection refused" in str(caught.value) and KEY not in str(caught.value)
    assert KEY not in repr(client)
