"""Safe image decoding: a header-only probe with limits, then an upright RGB decode.

Policy (stable; the API maps the errors to 422 `format` and 413 `too_large`):

- Accepted: JPEG (an MPO file, as some phones write, is read as its first picture), PNG, WebP and
  HEIC/HEIF (the primary image). EXIF orientation is applied, so results are always upright.
- `InvalidInputError(code="format")`: empty, unknown or truncated files, GIF, animated PNG/WebP,
  polyglots (a ZIP archive, HTML or script riding inside the image), damaged pixel data.
- `PayloadTooLargeError(code="too_large")`: more pixels or a longer side than allowed, decided from
  the header before any pixel is decoded, so a 30000x30000 bomb costs milliseconds and no memory.
- Transparency is composited on white; 16-bit images are scaled to 8 bits; CMYK, grayscale and
  palette images become RGB; embedded non-sRGB colour profiles are converted to sRGB.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property
from math import ceil

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageCms

from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
from headshot.imaging.heif import ensure_heif_opener
from headshot.imaging.jpegstrip import strip_jpeg_metadata
from headshot.imaging.polyglot import foreign_content

_MIME = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_MIME["HEIF"] = "image/heif"
# GIF is opened only to explain why it is refused.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "GIF")
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SWAPS_SIDES = frozenset({5, 6, 7, 8})

MSG_EMPTY = "The file is empty. Choose a photo and try again."
MSG_UNKNOWN = "This file is not a photo we can read. Upload a JPEG, PNG, WebP or HEIC image."
MSG_DAMAGED = "The file is incomplete or damaged. Take or export the photo again and re-upload it."
MSG_ANIMATED = "Animated images are not supported. Upload a single still photo instead."
MSG_POLYGLOT = (
    "This file holds other data besides a photo: {}. Export the photo again and upload that."
)


@dataclass(frozen=True)
class ImageInfo:
    """What the header says. `width`/`height` are after EXIF orientation (as the person sees it)."""

    format: str  # "JPEG", "PNG", "WEBP" or "HEIF"
    mime: str
    width: int
    height: int
    frame_count: int
    has_alpha: bool
    mode: str
    orientation: int


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image, possibly reduced; `scale` is its width over the full width."""

    info: ImageInfo
    image: Image.Image

    @cached_property
    def pixels(self) -> NDArray[np.uint8]:
        """The image as an H x W x 3 array (made on first use: a copy costs ~15 ms at 3 MP)."""
        return np.asarray(self.image, dtype=np.uint8)

    @property
    def scale(self) -> float:
        return self.image.width / self.info.width

    def region(self, left: int, top: int, right: int, bottom: int) -> NDArray[np.uint8]:
        """The pixels of a box: a view when `pixels` exists already, else only the box is copied
        (a full-size HEIF would cost ~36 MB and ~20 ms to copy whole)."""
        if "pixels" in self.__dict__:  # where cached_property keeps the array once made
            return self.pixels[top:bottom, left:right]
        return np.asarray(self.image.crop((left, top, right, bottom)), dtype=np.uint8)


def probe(data: bytes, *, max_pixels: int, max_side: int) -> ImageInfo:
    """Read the header only and enforce the limits.

    Raises `InvalidInputError(code="format")` or `PayloadTooLargeError(code="too_large")`.
    """
    with _open(data, max_pixels=max_pixels, max_side=max_side) as im:
        return _inspect(im, data, max_pixels=max_pixels, max_side=max_side)


def decode(
    data: bytes, *, max_pixels: int, max_side: int, target_long_side: int | None = None
) -> DecodedImage:
    """Decode upright to RGB; raises like `probe`, and `InvalidInputError` for damaged data.

    With `target_long_side` the decode is reduced: the long side ends up between the target and
    twice it (JPEG scales by powers of two while decoding), or stays the full size if smaller.
    """
    with _open(data, max_pixels=max_pixels, max_side=max_side) as im:
        info = _inspect(im, data, max_pixels=max_pixels, max_side=max_side)
        try:
            if target_long_side is not None and info.format == "JPEG":
                _draft(im, target_long_side)
            im.load()
            reduced = _reduce(im, target_long_side)
            icc = im.info.get("icc_profile")
            rgb = _upright(_to_srgb(_flatten(reduced), icc), info.orientation)
        except (InvalidInputError, PayloadTooLargeError):
            raise
        except Exception as exc:  # Pillow's decoders raise many types on damaged data
            raise InvalidInputError(MSG_DAMAGED, code="format") from exc
    return DecodedImage(info=info, image=rgb)


def clean_original(data: bytes, *, max_pixels: int, max_side: int) -> tuple[bytes, str]:
    """The photo to store as the "original": upright, nothing but pixels. Returns `(bytes, mime)`.

    An upright sRGB JPEG is rebuilt losslessly from a whitelist of segments (`jpegstrip`: no
    APPn payload, no comment, nothing after the first picture); anything else (other formats,
    rotated or non-sRGB JPEGs, streams the rebuild cannot follow) goes through `encode_clean`.
    """
    with _open(data, max_pixels=max_pixels, max_side=max_side) as im:
        info = _inspect(im, data, max_pixels=max_pixels, max_side=max_side)
        if info.format == "JPEG" and info.orientation == 1 and im.mode in ("RGB", "L"):
            stripped = strip_jpeg_metadata(data) if _is_srgb(im.info.get("icc_profile")) else None
            if stripped is not None:
                return stripped, "image/jpeg"
        keep_alpha = info.has_alpha
        try:
            im.load()
            pixels = _to_srgb(_flatten(im, keep_alpha=keep_alpha), im.info.get("icc_profile"))
            upright = _upright(pixels, info.orientation)
        except Exception as exc:  # Pillow's decoders raise many types on damaged data
            raise InvalidInputError(MSG_DAMAGED, code="format") from exc
    return encode_clean(upright)


def encode_clean(image: Image.Image, *, quality: int = 95) -> tuple[bytes, str]:
    """The one writer of re-encoded images: pixels only, no metadata. PNG when there is alpha
    (with the colour under fully transparent pixels set to black, so nothing hides there), else
    a JPEG (Pillow adds only a bare JFIF header)."""
    image.info = {}  # Pillow's encoders would otherwise copy the ICC profile and EXIF across
    out = io.BytesIO()
    if image.mode == "RGBA":
        _clear_hidden_colour(image).save(out, format="PNG", optimize=False)
        return out.getvalue(), "image/png"
    image.save(out, format="JPEG", quality=quality, subsampling="4:2:0")
    return out.getvalue(), "image/jpeg"


def _clear_hidden_colour(image: Image.Image) -> Image.Image:
    rgba = np.array(image, dtype=np.uint8)
    rgba[rgba[..., 3] == 0, :3] = 0
    return Image.fromarray(rgba)  # H x W x 4 bytes: RGBA


def _open(data: bytes, *, max_pixels: int, max_side: int) -> Image.Image:
    if not data:
        raise InvalidInputError(MSG_EMPTY, code="format")
    ensure_heif_opener()
    try:
        return Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own bomb guard fired on the header size (ours is stricter). Between its warning
        # and error limits Pillow only warns, and `_inspect` refuses the image a moment later.
        message = _too_large_message(max_pixels=max_pixels, max_side=max_side)
        raise PayloadTooLargeError(message, code="too_large") from exc
    except Exception as exc:  # Pillow's plugins raise many types on malformed headers
        raise InvalidInputError(MSG_UNKNOWN, code="format") from exc


def _inspect(im: Image.Image, data: bytes, *, max_pixels: int, max_side: int) -> ImageInfo:
    fmt = "JPEG" if im.format == "MPO" else str(im.format)
    frames = int(getattr(im, "n_frames", 1))
    if fmt == "GIF":
        raise InvalidInputError(MSG_ANIMATED if frames > 1 else MSG_UNKNOWN, code="format")
    if fmt in ("PNG", "WEBP") and frames > 1:
        raise InvalidInputError(MSG_ANIMATED, code="format")
    foreign = foreign_content(data)
    if foreign is not None:
        raise InvalidInputError(MSG_POLYGLOT.format(foreign), code="format")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise InvalidInputError(MSG_DAMAGED, code="format")
    if width * height > max_pixels or max(width, height) > max_side:
        raise PayloadTooLargeError(
            _too_large_message(width, height, max_pixels=max_pixels, max_side=max_side),
            code="too_large",
        )
    orientation = _orientation(im)
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    has_alpha = im.mode in _ALPHA_MODES or "transparency" in im.info
    return ImageInfo(
        format=fmt,
        mime=_MIME[fmt],
        width=width,
        height=height,
        frame_count=frames,
        has_alpha=has_alpha,
        mode=im.mode,
        orientation=orientation,
    )


def _too_large_message(
    width: int | None = None, height: int | None = None, *, max_pixels: int, max_side: int
) -> str:
    size = "" if width is None or height is None else f" ({width} x {height} pixels)"
    return (
        f"The image is too large{size}. The limit is {max_pixels / 1e6:.0f} megapixels and "
        f"{max_side} pixels per side; upload a smaller copy."
    )


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a damaged EXIF block only loses the orientation, not the photo
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _draft(im: Image.Image, target_long_side: int) -> None:
    width, height = im.size
    scale = target_long_side / max(width, height)
    if scale < 1:
        im.draft(None, (ceil(width * scale), ceil(height * scale)))


def _reduce(im: Image.Image, target_long_side: int | None) -> Image.Image:
    if target_long_side is None:
        return im
    factor = max(im.size) // target_long_side
    return im.reduce(factor) if factor >= 2 else im


def _flatten(im: Image.Image, *, keep_alpha: bool = False) -> Image.Image:
    """8-bit RGB (or RGBA when `keep_alpha`), alpha composited on white otherwise."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        im = _to_8bit(im)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        if keep_alpha:
            return rgba
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im if im.mode == "RGB" else im.convert("RGB")


def _to_8bit(im: Image.Image) -> Image.Image:
    values = np.asarray(im, dtype=np.float64)
    # 16-bit sources use the full 0..65535 range; Pillow's own conversion would clip, not scale.
    peak = 65535.0 if im.mode.startswith("I;16") or values.max() > 255 else 255.0
    scaled = np.clip(values * (255.0 / peak), 0, 255).round().astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


def _is_srgb(icc: bytes | None) -> bool:
    if not icc:
        return True
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except Exception:  # an unreadable profile is treated as sRGB, as browsers do
        return True
    return "srgb" in description.lower()


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if not icc or _is_srgb(icc) or im.mode not in ("RGB", "RGBA"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            im, source, ImageCms.createProfile("sRGB"), outputMode=im.mode
        )
    except Exception:  # keep the pixels as they are rather than fail on an odd profile
        return im
    return converted if converted is not None else im


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    if orientation == 1:
        return im
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }[orientation]
    return im.transpose(method)
