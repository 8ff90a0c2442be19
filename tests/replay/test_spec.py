"""Loading --pipeline: albumentations files, import paths, and one-line usage errors."""

from __future__ import annotations

from pathlib import Path

import albumentations as A
import pytest

from maskaudit.errors import UsageError
from maskaudit.replay.flatten import flatten
from maskaudit.replay.preprocess import parse_preprocess
from maskaudit.replay.spec import load_pipeline
from tests.replay.conftest import Replay
from tests.replay.dataset import FIXTURES, MODULE, pipeline


def test_import_path_to_file_keeps_the_lambda() -> None:
    loaded = load_pipeline(pipeline("clip_then_gamma"))
    assert loaded.kind == "import" and loaded.notes == []
    leaf = flatten(loaded.compose)[1][0]
    assert leaf.name == "Lambda" and leaf.lambda_source is not None and "np.clip" in leaf.lambda_source


def test_dotted_module_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    loaded = load_pipeline("pipelines:clean")
    assert isinstance(loaded.compose, A.Compose) and len(loaded.compose.transforms) == 3


def test_json_file_with_a_lambda_says_it_lost_it(replay: Replay) -> None:
    loaded = load_pipeline(str(FIXTURES / "clip_then_gamma.json"))
    assert loaded.lost_lambdas == ("clip_negative",)
    assert "drops its function" in loaded.notes[0]
    findings, section = replay("zscore", str(FIXTURES / "clip_then_gamma.json"))
    assert section["transforms"][1]["lambda_lost"] is True
    assert any("clip_negative" in note for note in section["notes"])
    # Without its function the clip is a no-op, so RandomGamma now meets the negative values itself.
    assert not [f for f in findings if f.transform == "1:Lambda"]
    assert ("pipeline-non-finite", "2:RandomGamma") in {(f.check, f.transform) for f in findings}


def test_ignored_always_apply_is_reported(replay: Replay) -> None:
    for spec in (str(FIXTURES / "always_apply.json"), pipeline("always_apply_gamma")):
        _, section = replay("uint8", spec)
        leaf = section["transforms"][0]
        assert leaf["ignored_args"] == ["always_apply"]
        assert leaf["effective_p"] == 0.5 and not leaf["always"]
        assert any("always_apply" in note for note in section["notes"])


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("missing.json", "does not exist"),
        ("no_such_module_xyz:build", "cannot import no_such_module_xyz"),
        (f"{MODULE}:no_such_factory", "has no attribute"),
        (f"{MODULE}:clip_negative", "raised"),
        ("pipeline", "give a .json/.yaml file"),
    ],
)
def test_bad_specs_are_usage_errors(spec: str, reason: str) -> None:
    with pytest.raises(UsageError) as info:
        load_pipeline(spec)
    message = str(info.value)
    assert spec in message and reason in message and "\n" not in message


def test_file_that_is_not_a_pipeline(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"transform": {"__class_fullname__": "NoSuchTransform", "p": 1.0}}')
    with pytest.raises(UsageError, match="albumentations cannot load it"):
        load_pipeline(str(bad))
    bad.write_text("[1, 2")
    with pytest.raises(UsageError, match="cannot read json"):
        load_pipeline(str(bad))


def test_factory_returning_something_else(tmp_path: Path) -> None:
    module = tmp_path / "user_pipeline.py"
    module.write_text("def build():\n    return 42\n")
    with pytest.raises(UsageError, match="not an albumentations Compose"):
        load_pipeline(f"{module}:build")


def test_preprocess_names() -> None:
    assert parse_preprocess("zscore")[0] == "zscore"
    with pytest.raises(UsageError, match="unknown"):
        parse_preprocess("standardise")
    with pytest.raises(UsageError, match="cannot import"):
        parse_preprocess("no_such_module_xyz:fn")


def test_a_pipeline_that_cannot_be_copied_is_a_usage_error(replay: Replay, tmp_path: Path) -> None:
    module = tmp_path / "uncopyable.py"
    module.write_text(
        "import threading\nimport albumentations as A\n\n"
        "class Locked(A.ImageOnlyTransform):\n"
        "    def __init__(self, p=1.0):\n        super().__init__(p=p)\n        self.lock = threading.Lock()\n\n"
        "    def apply(self, img, **params):\n        return img\n\n"
        "def build():\n    return A.Compose([Locked()])\n"
    )
    with pytest.raises(UsageError, match="cannot be copied"):
        replay("uint8", f"{module}:build")
