"""The filtered file: any left-out elements, any formatting; what is kept parses back as the input minus them."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.annotations.filtered import write_filtered

ELEMENTS = st.lists(st.fixed_dictionaries({"id": st.integers(), "name": st.text(max_size=5)}), max_size=12)


@settings(max_examples=150, deadline=None)
@given(elements=ELEMENTS, indent=st.sampled_from([None, 0, 2]), data=st.data())
def test_left_out_elements_are_cut_and_everything_else_kept(tmp_path_factory: pytest.TempPathFactory,
                                                            elements: list[object], indent: int | None,
                                                            data: st.DataObject) -> None:
    left_out = data.draw(st.sets(st.integers(0, max(0, len(elements) - 1)), max_size=len(elements)))
    left_out = {n for n in left_out if n < len(elements)}
    document = {"info": {"note": "] [ {"}, "annotations": elements, "extra": [1, 2]}
    path = tmp_path_factory.mktemp("filtered") / "in.json"
    path.write_text(json.dumps(document, indent=indent))
    out = io.BytesIO()
    kept = write_filtered(str(path), {"annotations": left_out}, out)
    written = json.loads(out.getvalue())
    assert written["annotations"] == [e for n, e in enumerate(elements) if n not in left_out]
    assert kept["annotations"] == len(elements) - len(left_out)
    assert written["info"] == document["info"] and written["extra"] == [1, 2]
    if not left_out:
        assert out.getvalue() == path.read_bytes()
