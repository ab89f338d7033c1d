"""The pure checks of one request: the token, and the spool line a body becomes."""

import gzip
import json
import zlib

import pytest

from braze_currents.receiver.body import (
    BodyError,
    authorized,
    decode_body,
    spool_line,
    token_digest,
)

DIGEST = token_digest("s3cret-token")


def _gz(data: bytes) -> bytes:
    """gzip with a fixed header time: the bytes end up in test ids, which pytest-xdist's
    workers must collect identically (gzip.compress stamps the current second)."""
    return gzip.compress(data, mtime=0)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret-token", True),
        ("bearer s3cret-token", True),  # the scheme is case-insensitive (RFC 7235)
        ("Bearer  s3cret-token ", True),
        ("Bearer s3cret-tokeN", False),
        ("Bearer s3cret-token-and-more", False),
        ("Bearer s3cret", False),
        ("Bearer ", False),
        ("Basic s3cret-token", False),
        ("s3cret-token", False),
        ("", False),
        (None, False),
    ],
)
def test_authorized_only_with_the_bearer_token(header, ok):
    assert authorized(header, DIGEST) is ok


def test_without_a_configured_token_everything_passes():
    assert authorized(None, None)
    assert authorized("Bearer anything", None)


def test_token_comparison_is_constant_time(monkeypatch):
    """The comparison goes through hmac.compare_digest on fixed-length digests."""
    import braze_currents.receiver.body as body

    seen = []

    def spy(a, b):
        seen.append((len(a), len(b)))
        return a == b

    monkeypatch.setattr(body.hmac, "compare_digest", spy)
    assert not body.authorized("Bearer x", DIGEST)
    assert not body.authorized("Bearer " + "y" * 500, DIGEST)
    assert seen == [(32, 32), (32, 32)]


def test_a_compact_body_is_stored_as_it_came():
    raw = b'{"events":[{"id":"a","time":1},{"id":"b","time":2}]}'
    line = spool_line(raw)
    assert line.data == raw + b"\n"
    assert (line.events, line.valid_json) == (2, True)


def test_a_pretty_printed_body_becomes_one_line_with_the_same_meaning():
    doc = {"events": [{"id": "a", "properties": {"text": "two\nlines", "n": 1.50}}]}
    raw = json.dumps(doc, indent=2).replace("\n", "\r\n").encode()
    line = spool_line(raw)
    assert line.data.count(b"\n") == 1 and line.data.endswith(b"\n")
    assert b"\r" not in line.data
    assert json.loads(line.data) == doc
    assert line.events == 1


def test_a_body_that_is_not_json_is_kept_and_flagged():
    line = spool_line(b"events=1&x=2")
    assert line.data == b"events=1&x=2\n"
    assert (line.events, line.valid_json) == (None, False)


def test_a_broken_body_with_line_breaks_stays_one_recoverable_line():
    raw = b'{"events": [\n{"id": "a"\n'  # truncated JSON over three lines
    line = spool_line(raw)
    assert line.data.count(b"\n") == 1
    assert json.loads(line.data) == raw.decode()  # the text survives exactly
    assert not line.valid_json


def test_bytes_that_are_not_utf8_are_kept():
    raw = b'{"events":[{"id":"\xff"}]}'
    assert spool_line(raw).data == raw + b"\n"  # the loader rejects it as not UTF-8 text


@pytest.mark.parametrize(
    ("raw", "events"),
    [(b'{"events":[]}', 0), (b'{"events":{}}', None), (b"[1,2]", None), (b'{"x":1}', None)],
)
def test_events_are_counted_only_in_an_events_array(raw, events):
    line = spool_line(raw)
    assert line.events == events and line.valid_json


# ---- Content-Encoding --------------------------------------------------------------------
BODY = b'{"events":[' + b",".join(b'{"id":"%d"}' % i for i in range(300)) + b"]}"


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [
        (None, BODY),
        ("identity", BODY),
        ("gzip", _gz(BODY)),
        ("GZIP", _gz(BODY)),
        ("x-gzip", _gz(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY, wbits=-15)),  # raw deflate, as some clients send
    ],
)
def test_bodies_are_decoded(encoding, packed):
    assert decode_body(packed, encoding, 1 << 20) == BODY


def test_a_gzip_stream_of_several_members_is_read_whole():
    packed = _gz(BODY[:100]) + _gz(BODY[100:])
    assert decode_body(packed, "gzip", 1 << 20) == BODY


@pytest.mark.parametrize(
    ("encoding", "packed", "status"),
    [
        ("gzip", _gz(BODY)[:-9], 400),  # cut inside the trailer
        ("gzip", _gz(BODY)[: len(_gz(BODY)) // 2], 400),
        ("gzip", b"not gzip at all", 400),
        ("deflate", b"not deflate", 400),
        ("gzip", _gz(b" " * 5000), 413),  # inflates above the limit
        (None, b" " * 1001, 413),
        ("br", BODY, 415),
        ("zstd", BODY, 415),
    ],
)
def test_bodies_that_cannot_be_decoded_are_refused(encoding, packed, status):
    with pytest.raises(BodyError) as err:
        decode_body(packed, encoding, 1000 if status == 413 else 1 << 20)
    assert err.value.status == status


def test_a_gzip_bomb_is_not_inflated_past_the_limit():
    bomb = _gz(b"\0" * (64 << 20))  # 64 MiB in ~64 kB
    with pytest.raises(BodyError) as err:
        decode_body(bomb, "gzip", 1 << 20)
    assert err.value.status == 413


@pytest.mark.parametrize(
    "raw",
    [
        b'{"events":5,"x":tru}',  # not a batch, and malformed after the part that says so
        b'{"events":[{"id":"a"}],"x":[1,}',  # a batch, malformed after its events
        b'{"events":[{"id":"a",}]}',  # malformed inside an event
        b'{"events":[{"id":"a"}]} trailing',
        b'{"events":[{"id":NaN}]}',
    ],
)
def test_malformed_json_is_never_taken_for_json(raw):
    assert spool_line(raw).valid_json is False
