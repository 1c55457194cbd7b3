"""A file copied to a folder that does not exist yet: the folders are made, as
``rsync --mkpath`` makes them (a tree copy always made its own)."""

from __future__ import annotations

from pathlib import Path

import pytest
from transfer_helpers import KIB, make_file, run

from computenet.errors import ComputeNetError
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.paths import parent_dir

OPTS = CopyOptions(chunk_bytes=64 * KIB, small_file_bytes=16 * KIB)


@pytest.mark.parametrize("size", [100, 200 * KIB])  # a small batch and a chunked file
def test_a_file_lands_in_folders_that_did_not_exist(tmp_path: Path, size: int) -> None:
    data = make_file(tmp_path / "in.dat", size)
    site = tmp_path / "site"
    site.mkdir()
    run(
        copy(
            LocalEndpoint(),
            str(tmp_path / "in.dat"),
            LocalEndpoint(site),
            "new/deeper/in.dat",
            OPTS,
        )
    )
    assert (site / "new/deeper/in.dat").read_bytes() == data
    # "into DIR/" with DIR missing: DIR is made and the file keeps its name
    run(copy(LocalEndpoint(), str(tmp_path / "in.dat"), LocalEndpoint(site), "other/", OPTS))
    assert (site / "other/in.dat").read_bytes() == data


def test_a_file_where_a_folder_should_be_is_a_clear_error(tmp_path: Path) -> None:
    make_file(tmp_path / "in.dat", 10)
    site = tmp_path / "site"
    site.mkdir()
    (site / "plain").write_text("not a folder")
    with pytest.raises(ComputeNetError) as err:
        run(
            copy(
                LocalEndpoint(), str(tmp_path / "in.dat"), LocalEndpoint(site), "plain/in.dat", OPTS
            )
        )
    assert "plain" in err.value.message and "\n" not in err.value.message
    assert (site / "plain").read_text() == "not a folder"  # nothing changed


def test_parent_dir() -> None:
    assert parent_dir("a/b/c.dat") == "a/b"
    assert parent_dir("c.dat") is None
    assert parent_dir("/c.dat") is None
    assert parent_dir("/x/c.dat") == "/x"
