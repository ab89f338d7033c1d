"""The receiver over HTTP, as Braze's Custom HTTP connector sees it (127.0.0.1 only)."""

from __future__ import annotations

import gzip
import json
import time
import zlib

import pytest
import requests
from receiver_testing import TOKEN, Receiver, landed, load_spool, post

from braze_currents.devtools.poster import make_body

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def status(r: Receiver) -> dict:
    return requests.get(r.url + "status", headers=AUTH, timeout=10).json()


def spool_lines(r: Receiver) -> list[bytes]:
    """Every line the spool holds, closed and open files alike."""
    out = []
    for p in sorted(r.spool.rglob("currents-*")):
        if p.suffix in (".ndjson", ".open"):
            out.extend(p.read_bytes().splitlines())
    return out


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ],
    ids=["missing", "wrong", "longer", "basic-scheme", "no-scheme"],
)
def test_without_the_right_token_nothing_is_stored(shared_receiver, headers):
    marker = f"unauth-{time.monotonic_ns()}"
    body = json.dumps({"events": [{"id": marker}]}).encode()
    resp = requests.post(shared_receiver.url, data=body, headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert not any(marker.encode() in line for line in spool_lines(shared_receiver))
    assert TOKEN not in "".join(shared_receiver.lines)  # never logged


def test_status_needs_the_token_and_healthz_does_not(shared_receiver):
    assert requests.get(shared_receiver.url + "status", timeout=10).status_code == 401
    resp = requests.get(shared_receiver.url + "healthz", timeout=10)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def test_both_routes_store_the_body(shared_receiver):
    for path in ("", "currents"):
        body = make_body(3)
        resp = requests.post(shared_receiver.url + path, data=body, headers=AUTH, timeout=10)
        assert resp.status_code == 200 and resp.json() == {"stored": True, "events": 3}
        assert body in spool_lines(shared_receiver)


def test_gzip_and_deflate_bodies_are_stored_decompressed(shared_receiver):
    for encoding, pack in (("gzip", gzip.compress), ("deflate", zlib.compress)):
        body = make_body(50)
        resp = requests.post(
            shared_receiver.url,
            data=pack(body),
            headers={**AUTH, "Content-Encoding": encoding},
            timeout=10,
        )
        assert resp.status_code == 200, encoding
        assert body in spool_lines(shared_receiver)


def test_a_broken_gzip_stream_is_refused_not_stored(shared_receiver):
    broken = gzip.compress(make_body(20))[:-30]
    before = status(shared_receiver)["refused"].get("unreadable", 0)
    resp = requests.post(
        shared_receiver.url, data=broken, headers={**AUTH, "Content-Encoding": "gzip"}, timeout=10
    )
    assert resp.status_code == 400
    assert status(shared_receiver)["refused"]["unreadable"] == before + 1


def test_an_empty_body_is_refused(shared_receiver):
    for body in (b"", b"  \n "):
        resp = requests.post(shared_receiver.url, data=body, headers=AUTH, timeout=10)
        assert resp.status_code == 400


def test_bodies_that_are_not_json_are_stored_for_the_loader_to_reject(shared_receiver):
    before = status(shared_receiver)["invalid_json_bodies"]
    body = b"this is not json " + str(time.monotonic_ns()).encode()
    resp = requests.post(shared_receiver.url, data=body, headers=AUTH, timeout=10)
    assert resp.status_code == 200 and resp.json() == {"stored": True, "events": None}
    assert body in spool_lines(shared_receiver)
    assert status(shared_receiver)["invalid_json_bodies"] == before + 1


def test_oversize_bodies_are_refused_with_413(shared_receiver):
    limit = 8 << 20
    big = b'{"events":["' + b"x" * limit + b'"]}'
    resp = requests.post(shared_receiver.url, data=big, headers=AUTH, timeout=30)
    assert resp.status_code == 413
    # chunked (no Content-Length): refused while reading
    resp = requests.post(
        shared_receiver.url, data=iter([big[:1000], big[1000:]]), headers=AUTH, timeout=30
    )
    assert resp.status_code == 413
    # a small gzip stream that inflates above the limit
    resp = requests.post(
        shared_receiver.url,
        data=gzip.compress(big),
        headers={**AUTH, "Content-Encoding": "gzip"},
        timeout=30,
    )
    assert resp.status_code == 413
    assert status(shared_receiver)["refused"]["too_large"] >= 3


def test_a_body_of_exactly_the_limit_is_accepted(start_receiver):
    r = start_receiver("--max-body", "1000")
    body = b'{"events":["' + b"x" * (1000 - 15) + b'"]}'
    assert len(body) == 1000
    assert requests.post(r.url, data=body, headers=AUTH, timeout=10).status_code == 200
    assert requests.post(r.url, data=body + b" ", headers=AUTH, timeout=10).status_code == 413


def test_many_concurrent_posters_of_1_to_10000_events_all_land_once(shared_receiver, tmp_path):
    sizes = [1, 10_000, 100, 2, 5_000] + [100] * 195
    bodies = [make_body(n, tag=f"conc{i:04d}") for i, n in enumerate(sizes)]
    before = status(shared_receiver)
    answers = post(shared_receiver.url, bodies, concurrency=48)
    assert [a.status for a in answers] == [200] * len(bodies)
    after = status(shared_receiver)
    assert after["bodies"] - before["bodies"] == len(bodies)
    assert after["events"] - before["events"] == sum(sizes)
    assert after["bytes"] - before["bytes"] == sum(map(len, bodies))
    assert after["fsyncs"] - before["fsyncs"] < len(bodies)  # group commit shared fsyncs
    # files close within a second; load what is closed while the receiver keeps running
    assert wait_for(lambda: status(shared_receiver)["spool"]["open_files"] == [])
    database = tmp_path / "w.duckdb"
    assert load_spool(shared_receiver.spool, database) == 0
    counts = landed(database)
    assert all(counts.get(f"conc{i:04d}") == 1 for i in range(len(bodies)))
    assert load_spool(shared_receiver.spool, database) == 0  # nothing new, nothing twice
    assert landed(database) == counts


def test_gzipped_concurrent_posts(shared_receiver):
    bodies = [make_body(100, tag=f"gz{i:03d}") for i in range(100)]
    answers = post(shared_receiver.url, bodies, concurrency=16, gzip_bodies=True)
    assert all(a.status == 200 for a in answers)
    stored = set(spool_lines(shared_receiver))
    assert all(b in stored for b in bodies)


def test_wrong_tokens_among_many_posts(shared_receiver):
    bodies = [make_body(5, tag=f"wt{i:03d}") for i in range(40)]
    good = post(shared_receiver.url, bodies[:20], concurrency=8)
    bad = post(shared_receiver.url, bodies[20:], concurrency=8, token="nope")
    assert [a.status for a in good] == [200] * 20
    assert [a.status for a in bad] == [401] * 20
    stored = set(spool_lines(shared_receiver))
    assert all(b in stored for b in bodies[:20])
    assert not any(b in stored for b in bodies[20:])


def test_a_client_that_stalls_mid_body_gets_408_and_nothing_is_stored(start_receiver):
    import socket

    r = start_receiver("--read-seconds", "0.5")
    body = make_body(3)
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", r.port), timeout=10) as sock:
        sock.sendall(head + body[:20])  # then nothing more
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
    assert status(r)["refused"] == {"timeout": 1} and status(r)["bodies"] == 0
    assert not spool_lines(r)


def test_structured_logs_and_a_stats_line(start_receiver):
    r = start_receiver("--stats-seconds", "0.2")
    requests.post(r.url, data=make_body(7), headers=AUTH, timeout=10)
    requests.post(r.url, data=b"{}", timeout=10)  # refused
    assert wait_for(lambda: any(rec.get("message") == "stats" for rec in r.records()))
    stats = [rec for rec in r.records() if rec.get("message") == "stats"][-1]
    assert stats["bodies"] == 1 and stats["events"] == 7
    assert stats["refused"] == {"unauthorized": 1}
    assert "backlog" in stats["spool"]
    assert all({"time", "level", "message"} <= rec.keys() for rec in r.records())


def test_https_with_the_servers_own_certificate(start_receiver, tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    r = start_receiver("--tls-cert", str(cert_path), "--tls-key", str(key_path))
    assert r.url.startswith("https://")
    body = make_body(4)
    resp = requests.post(r.url, data=body, headers=AUTH, timeout=10, verify=str(ca_path))
    assert resp.status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(r.url.replace("https", "http"), data=body, headers=AUTH, timeout=5)


def test_it_will_not_start_without_a_token(tmp_path):
    r = Receiver(tmp_path / "spool", token=None)
    with pytest.raises(AssertionError, match="CURRENTS_RECEIVER_TOKEN"):
        r.start(timeout=20)
    assert r.proc.wait(10) == 2


def test_a_token_read_from_a_file_with_its_newline_still_matches(start_receiver):
    r = start_receiver(token=TOKEN + "\n")
    assert requests.post(r.url, data=make_body(1), headers=AUTH, timeout=10).status_code == 200


def test_a_blank_token_is_no_token(tmp_path):
    r = Receiver(tmp_path / "spool", token="  \n")
    with pytest.raises(AssertionError, match="CURRENTS_RECEIVER_TOKEN"):
        r.start(timeout=20)


def test_without_a_token_only_when_told(start_receiver):
    r = start_receiver("--allow-no-token", token=None)
    assert requests.post(r.url, data=make_body(1), timeout=10).status_code == 200
    assert any(rec.get("token") == "NOT REQUIRED" for rec in r.records())


def test_a_second_receiver_on_the_same_spool_refuses_to_start(start_receiver, tmp_path):
    start_receiver()
    second = Receiver(tmp_path / "spool")
    with pytest.raises(AssertionError, match="another receiver"):
        second.start()
    assert second.proc.wait(10) == 1
