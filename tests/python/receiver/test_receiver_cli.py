"""scripts/receive_currents.py's options: parsed once, refused clearly."""

import argparse

import pytest
from receiver_testing import Receiver

from braze_currents.receiver.cli import _size, main


@pytest.mark.parametrize(
    ("text", "value"),
    [("32M", 32 << 20), ("500k", 500 << 10), ("1G", 1 << 30), ("64MiB", 64 << 20), ("1000", 1000),
     ("1.5m", int(1.5 * (1 << 20)))],
)  # fmt: skip
def test_sizes(text, value):
    assert _size(text) == value


@pytest.mark.parametrize("text", ["", "lots", "0", "-5M", "M"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        _size(text)


@pytest.mark.parametrize(
    "argv",
    [
        ["--spool", "x", "--tls-cert", "c.pem"],  # a certificate without its key
        ["--spool", "x", "--lanes", "0"],
        ["--spool", "x", "--rotate-seconds", "0"],
        ["--spool", "x", "--max-body", "big"],
        [],  # no spool
    ],
)
def test_usage_errors_exit_2(argv, monkeypatch, capsys):
    monkeypatch.setenv("CURRENTS_RECEIVER_TOKEN", "t")
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_a_certificate_it_cannot_load_stops_it_with_exit_1(tmp_path):
    (tmp_path / "c.pem").write_text("not a certificate")
    r = Receiver(tmp_path / "spool", "--tls-cert", str(tmp_path / "c.pem"),
                 "--tls-key", str(tmp_path / "c.pem"))  # fmt: skip
    with pytest.raises(AssertionError, match="cannot start"):
        r.start()
    assert r.proc.wait(10) == 1
