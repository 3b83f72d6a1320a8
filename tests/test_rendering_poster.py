from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageFont

from rendering.poster import HEIGHT, WIDTH, PosterTexts, qr_matrix, render_poster, wrap_text

LINK = "https://t.me/ScoreAssistantBot?start=join-ABC234"
TEXTS = {
    "id": PosterTexts("Bergabunglah lewat Telegram", "Kode bergabung",
                      ("Pindai kode QR ini.", "Tekan MULAI.", "Ketik kode di atas."), "SCORE"),
    "en": PosterTexts("Join us on Telegram", "Join code",
                      ("Scan this QR code.", "Tap START.", "Type the code above."), "SCORE"),
}


def render(**overrides: str) -> bytes:
    args: dict = {"enterprise_name": "PT Maju Jaya", "link": LINK, "code": "ABC234"}
    locale = overrides.pop("locale", "id")
    args.update(overrides)
    return render_poster(**args, texts=TEXTS[locale])


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("L")


def grey(image: Image.Image) -> Callable[[int, int], int]:
    """The grey level at (x, y) of a mode "L" image: one byte a pixel, row by row."""
    assert image.mode == "L"
    data, width = image.tobytes(), image.width
    return lambda x, y: data[y * width + x]


def darkest(image: Image.Image) -> int:
    """The lowest grey level of a mode "L" image."""
    assert image.mode == "L"
    return min(image.tobytes())


def find_qr(image: Image.Image, size: int) -> tuple[int, int, int] | None:
    """(x, y, module size) of a QR whose matrix has `size` modules per side,
    found by its two top finder patterns: dark runs of 7 modules, both on the
    same row, exactly (size - 7) modules apart."""
    width, height = image.size
    pixel = grey(image)
    for y in range(height):
        runs: list[tuple[int, int]] = []
        x = 0
        while x < width:
            if pixel(x, y) < 128:
                start = x
                while x < width and pixel(x, y) < 128:
                    x += 1
                runs.append((start, x - start))
            x += 1
        for start, length in runs:
            if length < 7 * 3 or length % 7:
                continue
            box = length // 7
            if (start + (size - 7) * box, length) in runs:
                return start, y, box
    return None


@pytest.mark.parametrize("locale", ["id", "en"])
def test_poster_is_a4_png_containing_the_qr_of_the_link(locale: str) -> None:
    image = open_png(render(locale=locale))
    assert image.size == (WIDTH, HEIGHT)
    matrix = qr_matrix(LINK)
    found = find_qr(image, len(matrix))
    assert found is not None
    x0, y0, box = found
    assert box * len(matrix) >= 400  # big enough to scan from a wall
    # Every module, sampled at its centre, matches the QR of the link.
    pixel = grey(image)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            value = pixel(x0 + c * box + box // 2, y0 + r * box + box // 2)
            assert (value < 128) == dark, (r, c)


def test_output_depends_on_code_locale_and_name() -> None:
    base = render()
    assert render() == base  # deterministic
    assert render(code="XYZ789") != base
    assert render(locale="en") != base
    assert render(enterprise_name="CV Lain") != base


def test_long_names_wrap_within_the_page() -> None:
    font = ImageFont.load_default(size=68)
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow's default font, scalable since 10.1
    long_name = "PT Sinar Abadi Sejahtera Makmur Sentosa Komponen Otomotif dan Logam Presisi " * 3
    lines = wrap_text(long_name, font, 1000)
    assert len(lines) > 3
    assert all(font.getlength(line) <= 1000 for line in lines)
    # A single word wider than the line is split rather than overflowing.
    word_lines = wrap_text("X" * 80, font, 1000)
    assert len(word_lines) > 1 and all(font.getlength(line) <= 1000 for line in word_lines)

    image = open_png(render(enterprise_name=long_name))
    assert image.size == (WIDTH, HEIGHT)
    assert find_qr(image, len(qr_matrix(LINK))) is not None
    # Nothing is drawn in the side margins.
    left = image.crop((0, 0, 40, HEIGHT))
    right = image.crop((WIDTH - 40, 0, WIDTH, HEIGHT))
    assert darkest(left) > 200 and darkest(right) > 200


def test_empty_name_still_renders() -> None:
    assert open_png(render(enterprise_name="")).size == (WIDTH, HEIGHT)
