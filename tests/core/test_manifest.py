from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maskaudit.errors import UsageError
from maskaudit.manifest import (
    NULL_TEXT,
    OUTPUT_MARKER,
    ManifestChanged,
    Relocation,
    column_text,
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


_CELL_TEXT = st.one_of(st.none(), st.text(), st.sampled_from(sorted(NULL_TEXT)),
                       st.builds(lambda pad, word: pad + word.upper() + pad, st.text(" \t\u2003\x1c"),
                                 st.sampled_from(sorted(NULL_TEXT))))


@given(st.lists(_CELL_TEXT, max_size=30))
def test_a_text_column_reads_as_its_cells_one_at_a_time(cells: list[str | None]) -> None:
    for kind in (pa.string(), pa.large_string()):
        assert column_text(pa.array(cells, kind)) == [text_or_none(c) for c in cells]


def test_parquet_parts_with_compatible_schemas_are_unified(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"image_path": ["a.png"], "mask_path": ["ma.png"], "n": pa.array([1], pa.int32())}),
                   folder / "part-0.parquet")
    pq.write_table(pa.table({"image_path": ["b.png"], "mask_path": ["mb.png"], "n": pa.array([2], pa.int64()),
                             "extra": ["x"]}), folder / "part-1.parquet")
    manifest = open_manifest(folder)
    assert manifest.columns == ("image_path", "mask_path", "n", "extra")
    out = io.BytesIO()
    assert write_filtered(manifest, [True, True], out) == 2
    table = pq.read_table(pa.BufferReader(out.getvalue()))
    assert table.schema.field("n").type == pa.int64()
    assert table.to_pydict() == {"image_path": ["a.png", "b.png"], "mask_path": ["ma.png", "mb.png"], "n": [1, 2],
                                 "extra": [None, "x"]}


def test_parquet_parts_that_disagree_name_both_parts_and_the_column(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"image_path": ["a.png"], "mask_path": ["m.png"], "score": ["high"]}),
                   folder / "part-0.parquet")
    pq.write_table(pa.table({"image_path": ["b.png"], "mask_path": ["m.png"], "score": [0.5]}),
                   folder / "part-1.parquet")
    with pytest.raises(UsageError, match=r"parts .*part-0.parquet and .*part-1.parquet disagree on column 'score' "
                                         r"\(string vs double\)"):
        open_manifest(folder)


def test_a_folder_manifest_never_reads_maskaudit_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    for place in ("", "train.maskaudit", ".out.tmp-1234", "audit"):
        (folder / place).mkdir(parents=True, exist_ok=True)
        FRAME.to_parquet(folder / place / "facts.parquet", index=False)
    (folder / "audit" / OUTPUT_MARKER).write_text("")
    FRAME.to_parquet(folder / ".hidden.parquet", index=False)
    assert open_manifest(folder).parts == (str(folder / "facts.parquet"),)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("dup.csv", b"image_path,mask_path,mask_path\na,b,c\n", "names column(s) 'mask_path' more than once"),
        ("dup.jsonl", b'{"image_path": "a", "mask_path": "b", "mask_path": "c"}\n',
         "line 1 has the key 'mask_path' more than once"),
    ],
)
def test_duplicate_column_names_are_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError, match=re.escape(message)):
        open_manifest(path)


def test_duplicate_parquet_field_names_are_refused(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"]), pa.array(["c"])],
                                 names=["image_path", "mask_path", "mask_path"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(UsageError, match="names column\\(s\\) 'mask_path' more than once"):
        open_manifest(tmp_path / "dup.parquet")


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "folder"])
def test_row_count_gives_the_progress_total(tmp_path: Path, kind: str) -> None:
    assert open_manifest(write(tmp_path, kind)).row_count() == 4 + (kind == "jsonl")  # JSONL: one blank line


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "folder"])
@pytest.mark.parametrize("rows", [3, 5])
def test_a_manifest_with_other_rows_than_the_scan_read_is_refused(tmp_path: Path, kind: str, rows: int) -> None:
    manifest = open_manifest(write(tmp_path, kind))
    with pytest.raises(ManifestChanged, match="changed during the scan"):
        write_filtered(manifest, [True] * rows, io.BytesIO())


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "folder"])
def test_relocated_paths_resolve_from_the_new_folder(tmp_path: Path, kind: str) -> None:
    manifest = open_manifest(write(tmp_path, kind))
    relocation = Relocation.between(["Image", "label_path"], tmp_path, tmp_path / "out")
    assert relocation is not None and relocation.prefix == "../"
    out = io.BytesIO()
    write_filtered(manifest, [True] * 4, out, relocation)
    data = out.getvalue()
    if kind in ("parquet", "folder"):
        rows = pq.read_table(pa.BufferReader(data)).to_pylist()
    elif kind == "csv":
        rows = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False).to_dict("records")
    else:
        rows = [json.loads(line) for line in data.decode().splitlines()]
    assert [text_or_none(r["Image"]) for r in rows] == ["../a.png", "../b.png", None, "../d.png"]
    assert [r["label_path"] for r in rows] == ["../ma.png", "", "../mc.png", "../md.png"]


def test_relocation_keeps_absolute_paths_urls_and_empty_values() -> None:
    relocation = Relocation(("p",), "../")
    assert [relocation.text(v) for v in ("/abs/a.png", "~/a.png", "s3://b/a.png", "", "nan", " a.png", 3)] == [
        "/abs/a.png", "~/a.png", "s3://b/a.png", "", "nan", "../a.png", 3]
    values = pa.array(["/abs/a.png", "~/a.png", "s3://b/a.png", "", "NaN", " a.png", None])
    assert relocation.array(values).to_pylist() == [
        "/abs/a.png", "~/a.png", "s3://b/a.png", "", "NaN", "../a.png", None]
    assert relocation.array(values.dictionary_encode()).cast(pa.string()).to_pylist()[-2] == "../a.png"
