"""--format psd: layers in order, the photo's layer mask equal to the alpha, composite right."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

psd_tools = pytest.importorskip("psd_tools")

from alphacut.core.cutout import alpha_to_u8  # noqa: E402
from alphacut.core.psd import NAMES  # noqa: E402
from helpers import PETS  # noqa: E402


def _open(data: bytes):  # type: ignore[no-untyped-def]
    return psd_tools.PSDImage.open(io.BytesIO(data))


def _mask(layer, size: tuple[int, int]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The layer mask on the whole canvas of ``size`` (height, width), ``uint8 (H, W)``."""
    mask = layer.mask
    full = np.full(size, mask.background_color, np.uint8)
    x0, y0, x1, y1 = mask.bbox
    full[y0:y1, x0:x1] = np.asarray(mask.topil().convert("L"))
    return full


@pytest.fixture(scope="module")
def result(u2netp_remover):  # type: ignore[no-untyped-def]
    return u2netp_remover.remove(PETS[3])


def test_psd_of_a_cutout_has_the_photo_with_the_alpha_as_mask(result, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    psd = _open(u2netp_remover.render(result, format="psd"))
    assert [layer.name for layer in psd] == [NAMES[2], NAMES[3]]
    photo, clean = psd
    assert (psd.width, psd.height) == (result.alpha.shape[1], result.alpha.shape[0])
    assert photo.has_mask() and not clean.visible and photo.visible
    assert np.array_equal(_mask(photo, result.alpha.shape), alpha_to_u8(result.alpha))
    assert np.array_equal(np.asarray(photo.topil().convert("RGB")), result.image)
    assert np.array_equal(np.asarray(clean.topil())[..., 3], alpha_to_u8(result.alpha))
    composite = np.asarray(psd.composite(force=True)).astype(int)
    assert composite.shape[2] == 4
    assert np.abs(composite[..., 3] - alpha_to_u8(result.alpha)).max() <= 1
    solid = result.alpha > 0.99
    assert np.abs(composite[solid][:, :3] - result.image[solid]).max() <= 2


def test_psd_with_background_and_shadow_stacks_four_layers(result, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    from alphacut.config import Config
    from alphacut.core.finish.shadow import stack
    from alphacut.core.finish.steps import feathered, shadow_of

    options = {"format": "psd", "bg": "#336699", "shadow": "drop", "feather": 3}
    psd = _open(u2netp_remover.render(result, **options))
    assert [layer.name for layer in psd] == list(NAMES)
    background, shadow, photo, _ = psd
    output = Config.build(**options).output
    alpha = feathered(result.alpha, output)
    shade = shadow_of(alpha, output)
    assert np.array_equal(_mask(photo, result.alpha.shape), alpha_to_u8(alpha))  # feathered
    assert np.array_equal(np.asarray(shadow.topil())[..., 3], alpha_to_u8(shade))
    assert np.all(np.asarray(background.topil().convert("RGB")) == (0x33, 0x66, 0x99))
    flat = np.empty_like(result.image)
    flat[...] = (0x33, 0x66, 0x99)
    expected = stack(result.image, alpha_to_u8(alpha) / np.float32(255), shade, flat)
    composite = np.asarray(psd.composite(force=True).convert("RGB")).astype(int)
    assert np.abs(composite - expected).mean() < 1.0 and np.abs(composite - expected).max() <= 4
    stored = np.asarray(psd.topil().convert("RGB")).astype(int)  # the file's merged image
    assert np.abs(stored - composite).max() <= 2


def test_cli_writes_psd_from_the_extension(tmp_path: Path) -> None:
    from alphacut.interfaces.cli import main

    target = tmp_path / "cut.psd"
    assert main(["remove", str(PETS[0]), "-o", str(target), "-m", "u2netp", "--quiet"]) == 0
    psd = psd_tools.PSDImage.open(target)
    assert [layer.name for layer in psd] == [NAMES[2], NAMES[3]]


def test_psd_refuses_mask_only() -> None:
    from alphacut.config import Config
    from alphacut.errors import InvalidOption

    with pytest.raises(InvalidOption, match="psd"):
        Config.build(format="psd", mask_only=True)
    with pytest.raises(InvalidOption, match="layers"):
        Config.build(format="psd", layers=True)


def test_psd_follows_the_layout_options_like_the_png(result, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    layout = {"crop": True, "crop_margin": "5%", "size": "400x300", "position": "center"}
    psd = _open(u2netp_remover.render(result, format="psd", **layout))
    png = np.asarray(Image.open(io.BytesIO(u2netp_remover.render(result, format="png",
                                                                  **layout))))
    assert (psd.width, psd.height) == (400, 300) and png.shape == (300, 400, 4)
    photo, clean = psd
    assert np.array_equal(_mask(photo, (300, 400)), png[..., 3])
    assert np.array_equal(np.asarray(clean.topil())[..., 3], png[..., 3])
    solid = png[..., 3] == 255  # the photo layer is the photo, laid out like the cut-out
    assert solid.sum() > 1000
    assert np.abs(np.asarray(photo.topil().convert("RGB")).astype(int)[solid]
                  - png[..., :3].astype(int)[solid]).mean() < 3
