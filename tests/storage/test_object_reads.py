"""How objects are read: status and head in one ranged request, the rest only when there is more."""

from __future__ import annotations

import zlib
from typing import Any

import cv2
import numpy as np

from maskaudit import storage
from maskaudit.loading import OBJECT_HEAD_BYTES, find, find_many, load, read, read_many


def png(height: int, width: int, seed: int) -> bytes:
    """A grey PNG of noise: incompressible, so its size grows with its pixels."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    return encoded.tobytes()


def test_a_small_object_comes_whole_with_its_status(s3: Any) -> None:
    s3.mkdir("small")
    data = png(32, 32, 1)
    s3.pipe_file("small/a.png", data)
    found, problem = find("a.png", "s3://small/", "mask")
    assert problem is None and found is not None
    assert found.head == data
    assert found.info.size == len(data) and found.info.versioned
    assert found.info == storage.Status.of_object(storage.info("s3://small/a.png"))
    content, problem = read(found, "mask")
    assert problem is None and content is not None and bytes(content.data) == data


def test_an_object_larger_than_the_head_is_read_in_full_in_order(s3: Any) -> None:
    s3.mkdir("large")
    data = png(768, 768, 2)
    assert len(data) > OBJECT_HEAD_BYTES
    s3.pipe_file("large/b.png", data)
    (found, problem), = find_many(["b.png"], "s3://large", "image")
    assert problem is None and found is not None
    assert found.head is not None and len(found.head) == OBJECT_HEAD_BYTES
    assert found.info.size == len(data)
    (content, problem), = read_many([found], "image")
    assert problem is None and content is not None
    assert zlib.crc32(content.data) == zlib.crc32(data)
    decoded, problem = load("b.png", "s3://large", "image")
    assert problem is None and decoded is not None and decoded.array.shape == (768, 768)


def test_an_object_is_refused_by_its_size_before_it_is_read_whole(s3: Any) -> None:
    from maskaudit.limits import Limits

    s3.mkdir("capped")
    data = png(768, 768, 3)
    s3.pipe_file("capped/c.png", data)
    found, problem = find("c.png", "s3://capped", "image", Limits(max_file_bytes=len(data) - 1))
    assert found is None and problem is not None and "over --max-file-bytes" in problem.message


def test_a_prefix_and_an_empty_object_are_told_apart_from_a_missing_one(s3: Any) -> None:
    s3.mkdir("kinds")
    s3.pipe_file("kinds/folder/inside.png", png(8, 8, 4))
    s3.pipe_file("kinds/empty.png", b"")
    found, problem = find("folder", "s3://kinds", "image")
    assert found is None and problem is not None and "is a folder (a prefix)" in problem.message
    found, problem = find("empty.png", "s3://kinds", "image")
    assert problem is None and found is not None and found.info.size == 0
    content, problem = read(found, "image")
    assert content is None and problem is not None and "empty (0 bytes)" in problem.message
    found, problem = find("nothing.png", "s3://kinds", "image")
    assert found is None and problem is not None and problem.kind.name == "NOT_FOUND"


def test_the_connection_pool_holds_the_requests_in_flight(s3: Any) -> None:
    assert s3.config_kwargs["max_pool_connections"] >= storage.io_concurrency()
