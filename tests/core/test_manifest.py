from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maskaudit.errors import UsageError
from maskaudit.manifest import (
    detect_columns,
    iter_batches,
    open_manifest,
    parse_flag,
    text_or_none,
    write_filtered,
)

FRAME = pd.DataFrame({
    "Image": ["a.png", "b.png", None, "d.png"],
    "label_path": ["ma.png", "", "mc.png", "md.png"],
    "fold": ["train", "train", "val", "val"],
    "has_mask": [True, False, True, True],
    "patient_id": ["p1", "p1", "p2", "p3"],
    "score": [1.5, 2.0, 0.25, 3.0],
})


def write(tmp_path: Path, kind: str) -> Path:
    if kind == "parquet":
        path = tmp_path / "m.parquet"
        FRAME.to_parquet(path, index=False)
    elif kind == "csv":
        path = tmp_path / "m.csv"
        FRAME.to_csv(path, index=False)
    elif kind == "jsonl":
        path = tmp_path / "m.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in FRAME.to_dict("records")) + "\n")
    else:
        path = tmp_path / "parts"
        path.mkdir()
        FRAME.iloc[:2].to_parquet(path / "part-0.parquet", index=False)
        FRAME.iloc[2:].to_parquet(path / "part-1.parquet", index=False)
    return path


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "folder"])
def test_columns_are_detected_and_read_as_text(tmp_path: Path, kind: str) -> None:
    manifest = open_manifest(write(tmp_path, kind))
    columns = detect_columns(manifest, {})
    assert (columns.image, columns.mask, columns.split, columns.flag, columns.group) == (
        "Image", "label_path", "fold", "has_mask", "patient_id")
    rows = [dict(zip(batch, values, strict=True))
            for batch in iter_batches(manifest, columns.selected())
            for values in zip(*batch.values(), strict=True)]
    assert [r["Image"] for r in rows] == ["a.png", "b.png", None, "d.png"]
    assert [r["label_path"] for r in rows] == ["ma.png", None, "mc.png", "md.png"]
    assert [parse_flag(r["has_mask"]) for r in rows] == [True, False, True, True]


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "folder"])
def test_filtered_manifest_keeps_format_columns_and_exact_rows(tmp_path: Path, kind: str) -> None:
    manifest = open_manifest(write(tmp_path, kind))
    out = io.BytesIO()
    assert write_filtered(manifest, [True, False, False, True], out) == 2
    data = out.getvalue()
    if kind in ("parquet", "folder"):
        table = pq.read_table(pa.BufferReader(data))
        assert table.column_names == list(FRAME.columns)
        assert table.column("Image").to_pylist() == ["a.png", "d.png"]
        assert table.schema == pq.read_schema(manifest.parts[0])
    elif kind == "csv":
        text = data.decode()
        assert text.splitlines()[0] == ",".join(FRAME.columns)
        lines = (tmp_path / "m.csv").read_text().splitlines(keepends=True)
        assert text == lines[0] + lines[1] + lines[4]
    else:
        records = [json.loads(line) for line in data.decode().splitlines()]
        assert [r["Image"] for r in records] == ["a.png", "d.png"] and list(records[0]) == list(FRAME.columns)


def test_explicit_columns_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    pd.DataFrame({"x": ["a.png"], "y": ["b.png"]}).to_csv(path, index=False)
    manifest = open_manifest(path)
    with pytest.raises(UsageError, match=r"image paths; columns found: x, y; name it with --image-col"):
        detect_columns(manifest, {})
    with pytest.raises(UsageError, match="--mask-col 'z' is not a column"):
        detect_columns(manifest, {"image": "x", "mask": "z"})
    columns = detect_columns(manifest, {"image": "x", "mask": "y"})
    assert (columns.image, columns.mask) == ("x", "y")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("broken.parquet", b"PAR1 not really", "not a readable parquet"),
        ("broken.jsonl", b'{"image": "a"}\n{not json\n', "line 2 is not valid JSON"),
        ("data.xlsx", b"whatever", "unsupported extension"),
    ],
)
def test_unreadable_manifests_are_usage_errors(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        manifest = open_manifest(path)
        list(iter_batches(manifest, list(manifest.columns)))


def test_missing_manifest_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        open_manifest(tmp_path / "nope.parquet")


def test_text_and_flag_parsing() -> None:
    assert [text_or_none(v) for v in (None, float("nan"), " NaN ", "", " a.png ", 3, b"x")] == [
        None, None, None, None, "a.png", "3", "x"]
    assert [parse_flag(v) for v in ("yes", "0", "1.0", "maybe", None)] == [True, False, True, None, None]
