"""scripts/load_currents.py --spool DIR: closed files only, each loaded once, one loader."""

from __future__ import annotations

import duckdb
import pytest

from braze_currents.load_cli import main as load_main
from braze_currents.receiver import spool
from braze_currents.receiver.spool import SpoolWriter


def body(tag: str) -> bytes:
    return b'{"events":[{"id":"%s","event_type":"users.behaviors.Install","time":1}]}\n' % (
        tag.encode()
    )


def batches(database) -> list[tuple[str, str]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(
            "select json_extract_string(events, '$[0].id'), source_file "
            "from raw.currents_batches order by 1"
        ).fetchall()
    finally:
        con.close()


def run(spool_dir, database, *extra) -> int:
    return load_main(["--spool", str(spool_dir), "--database", str(database), "--quiet", *extra])


def test_only_closed_files_are_loaded_and_each_once(tmp_path, capsys):
    d, db = tmp_path / "spool", tmp_path / "w.duckdb"
    d.mkdir()
    w = SpoolWriter(d, max_bytes=1 << 20, max_age=3600)
    w.append([body("a"), body("b")])
    first = w.close_file()
    w.append([body("c")])  # still open: a receiver is writing it
    assert run(d, db) == 0
    assert [t for t, _ in batches(db)] == ["a", "b"]
    assert batches(db)[0][1] == str(first)  # where it was when it was loaded
    assert (d / "loaded" / first.name).exists() and not first.exists()
    assert "1 file(s) moved to loaded/" in capsys.readouterr().out

    assert run(d, db) == 0  # nothing closed since: nothing loaded
    assert [t for t, _ in batches(db)] == ["a", "b"]

    w.close_file()
    assert run(d, db) == 0
    assert [t for t, _ in batches(db)] == ["a", "b", "c"]
    assert spool.closed_files(d) == []


def test_a_file_loaded_again_after_a_crash_adds_nothing(tmp_path):
    """A loader killed between its commit and the move leaves the file: it loads again as
    duplicates only."""
    d, db = tmp_path / "spool", tmp_path / "w.duckdb"
    d.mkdir()
    w = SpoolWriter(d, max_bytes=1 << 20, max_age=3600)
    w.append([body("a"), b"not json\n"])
    closed = w.close_file()
    assert run(d, db) == 0
    (d / "loaded" / closed.name).rename(closed)  # as if the move never happened
    assert run(d, db) == 0
    assert [t for t, _ in batches(db)] == ["a"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.currents_rejected").fetchone()[0] == 1
    con.close()


def test_a_second_loader_does_nothing_while_one_runs(tmp_path, capsys):
    d, db = tmp_path / "spool", tmp_path / "w.duckdb"
    d.mkdir()
    w = SpoolWriter(d, max_bytes=1 << 20, max_age=3600)
    w.append([body("a")])
    closed = w.close_file()
    with spool.locked(d, spool.LOADER_LOCK):
        assert run(d, db) == 0
    assert "another load" in capsys.readouterr().err
    assert closed.exists() and not db.exists()


def test_a_missing_spool_is_an_error(tmp_path, capsys):
    assert run(tmp_path / "nope", tmp_path / "w.duckdb") == 1
    assert "no spool directory" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["x.ndjson", "--spool", "d"]])
def test_inputs_or_spool_one_of_the_two(argv):
    with pytest.raises(SystemExit) as exit_:
        load_main(argv)
    assert exit_.value.code == 2
