"""Which paths lie outside the data: strict under a declared root, inferred from the data without one."""

from __future__ import annotations

from maskaudit.data_root import DataRoot, common_folder
from maskaudit.judge import judge
from maskaudit.settings import Settings
from tests.checks.cases import healthy, row


def flagged(rows: list, root: DataRoot) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    findings = judge(rows, Settings(), has_splits=False, root=root).findings
    return [(f.row, f.details["role"]) for f in findings if f.check == "path-outside-root"]


def test_common_folder_is_the_deepest_folder_holding_the_share() -> None:
    paths = [f"/d/set/images/{i}.png" for i in range(9)] + ["/etc/passwd"]
    assert common_folder(paths, 0.9) == "/d/set/images"
    assert common_folder(paths, 0.95) == "/"
    assert common_folder([*paths[:5], *(f"/d/set/masks/{i}.png" for i in range(5))], 0.9) == "/d/set"
    assert common_folder([], 0.9) == "/"


def test_a_manifest_beside_its_data_folder_is_silent_and_a_system_file_among_it_is_not() -> None:
    # A filtered manifest in out/ (or a manifest in splits/) reaches its files through ../images.
    rows = [row(i, image_path=f"../images/{i}.png", mask_path=f"../masks/{i}.png",
                outside=(f"/d/images/{i}.png", f"/d/masks/{i}.png")) for i in range(30)]
    implicit = DataRoot("/d/out")
    assert flagged(rows, implicit) == []
    hostile = row(30, image_path="../../../../etc/passwd", mask_path="../masks/30.png",
                  outside=("/etc/passwd", "/d/masks/30.png"))
    assert flagged([*rows, hostile], implicit) == [(30, "image")]


def test_a_declared_root_flags_every_path_outside_it() -> None:
    rows = [*healthy(3), row(3, image_path="../images/3.png", mask_path="m/3.png", outside=("/d/images/3.png", None))]
    assert flagged(rows, DataRoot("/d/out", declared=True)) == [(3, "image")]


def test_data_spread_over_the_whole_file_system_flags_nothing_without_a_root() -> None:
    rows = [row(i, image_path=f"/v{i}/a.png", mask_path=f"/w{i}/m.png", outside=(f"/v{i}/a.png", f"/w{i}/m.png"))
            for i in range(4)]
    assert flagged(rows, DataRoot("/d")) == []
    assert len(flagged(rows, DataRoot("/d", declared=True))) == 8


def test_the_severity_option_makes_it_an_error_that_drops_the_row() -> None:
    from maskaudit.findings import Severity

    rows = [*healthy(20), row(20, image_path="/etc/passwd", mask_path="m/20.png", outside=("/etc/passwd", None))]
    judged = judge(rows, Settings(severities={"path-outside-root": Severity.ERROR}), has_splits=False,
                   root=DataRoot("/data/set"))
    assert 20 in judged.dropped
