"""The watermark: its rules, who may set it, and the pixels it puts on a preview."""

from __future__ import annotations

import io
from uuid import uuid4

import pytest
from PIL import Image, ImageChops, ImageStat

from domains.album import Album
from domains.errors import InvalidValue, NotFound
from domains.organization import Organization
from domains.policies import Forbidden, Role
from domains.watermark import Watermark
from infra.watermarking import check_png, stamp
from tests.unit.test_album_workflow import NOW, album_in


def _jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _png(size: tuple[int, int] = (100, 50)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def _mean_difference(a: bytes, b: bytes, box: tuple[int, int, int, int]) -> float:
    first, second = (Image.open(io.BytesIO(x)).convert("L").crop(box) for x in (a, b))
    return float(ImageStat.Stat(ImageChops.difference(first, second)).mean[0])


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"text": None, "image_id": None}, "text"),
        ({"text": "   ", "image_id": None}, "text"),
        ({"text": "x" * 101, "image_id": None}, "text"),
        ({"text": "a\x00b", "image_id": None}, "text"),
        ({"text": None, "image_id": "not-a-sha"}, "image_id"),
        ({"text": "ok", "image_id": None, "position": "middle"}, "position"),
        ({"text": "ok", "image_id": None, "opacity": 0}, "opacity"),
        ({"text": "ok", "image_id": None, "scale": 1.5}, "scale"),
    ],
)
def test_a_watermark_names_the_field_it_refuses(arguments: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Watermark.checked(**arguments)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_the_fingerprint_changes_with_any_setting_and_only_then() -> None:
    first = Watermark.checked("© Lens", None, "center", 0.5, 0.3)
    assert first.fingerprint == Watermark.checked("  © Lens ", None, "center", 0.5, 0.3).fingerprint
    others = [
        Watermark.checked("© Lens!", None, "center", 0.5, 0.3),
        Watermark.checked("© Lens", None, "tiled", 0.5, 0.3),
        Watermark.checked("© Lens", None, "center", 0.6, 0.3),
        Watermark.checked("© Lens", "a" * 64, "center", 0.5, 0.3),
    ]
    assert len({first.fingerprint, *(o.fingerprint for o in others)}) == 5


def test_owners_and_admins_set_the_watermark_and_others_may_not() -> None:
    owner, photographer, stranger = uuid4(), uuid4(), uuid4()
    studio = Organization.create("Lens", owner)
    studio._member_added(
        user_id=photographer, role=Role.PHOTOGRAPHER.value, invitation_id=None, actor="t"
    )
    mark = Watermark.checked("© Lens", None)
    with pytest.raises(Forbidden):
        studio.set_watermark(mark, photographer)
    with pytest.raises(NotFound):
        studio.set_watermark(mark, stranger)
    studio.set_watermark(mark, owner)
    version = studio.version
    studio.set_watermark(mark, owner)
    assert studio.version == version, "the same watermark again records nothing"
    assert studio.watermark == mark
    studio.remove_watermark(owner)
    assert studio.watermark is None
    with pytest.raises(NotFound):
        studio.remove_watermark(owner)


def test_a_link_shared_before_watermarks_reads_back_without_one() -> None:
    state = {"nonce": "n"}
    Album.Shared.upcast_v2_v3(state)
    assert state["watermark"] is False


def test_the_stamp_marks_its_corner_and_leaves_the_rest_of_the_photo_alone() -> None:
    photo = _jpeg()
    stamped = stamp(photo, Watermark.checked("© Lens", None, "bottom-right", 1, 0.3), None)
    assert Image.open(io.BytesIO(stamped)).size == (800, 600)
    assert _mean_difference(photo, stamped, (560, 500, 780, 590)) > 15, "the mark is there"
    assert _mean_difference(photo, stamped, (0, 0, 300, 300)) < 2, "and nowhere else"


def test_an_image_mark_is_drawn_at_its_position_with_its_opacity() -> None:
    photo = _jpeg()
    solid = stamp(photo, Watermark.checked(None, "a" * 64, "top-left", 1, 0.25), _png())
    faint = stamp(photo, Watermark.checked(None, "a" * 64, "top-left", 0.2, 0.25), _png())
    corner = (30, 30, 150, 80)
    assert _mean_difference(photo, solid, corner) > 3 * _mean_difference(photo, faint, corner)
    with Image.open(io.BytesIO(solid)) as image:
        red, _green, blue = image.convert("RGB").getpixel((100, 50))  # type: ignore[misc]
    assert blue > 200 and red < 60, "the PNG's blue is drawn opaque"


def test_a_tiled_mark_covers_the_whole_photo() -> None:
    photo = _jpeg()
    tiled = stamp(photo, Watermark.checked("PROOF", None, "tiled", 1, 0.2), None)
    for box in ((0, 0, 400, 300), (400, 300, 800, 600)):
        assert _mean_difference(photo, tiled, box) > 5, box


def test_only_a_readable_png_within_limits_is_accepted() -> None:
    assert check_png(_png((100, 50))) == (100, 50)
    for data in (b"not an image", _jpeg(), _png((5000, 10))):
        with pytest.raises(InvalidValue) as refused:
            check_png(data)
        assert refused.value.field == "image"


def test_sharing_with_the_watermark_is_the_links_own_switch() -> None:
    album = album_in("ready")
    album.share("n1", "h1", None, False, "p", NOW, watermark=True)
    assert album.watermark is True
    album.share("n2", "h2", None, False, "p", NOW)
    assert album.watermark is False, "a new link without the switch shows clean previews"
    album.share("n3", "h3", None, False, "p", NOW, watermark=True)
    album.revoke_share("p")
    assert album.watermark is False
