"""Files the double hands out: a well-formed (tiny) safetensors LoRA and real JPEGs."""

from __future__ import annotations

import io
import json
import struct
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter


def fake_safetensors(*, rank: int = 4, width: int = 64, seed: int = 0, salt: str = "") -> bytes:
    """A valid safetensors file: u64 header length, JSON header, then the tensor bytes. `salt`
    (metadata) makes each training's file distinct."""
    metadata = {"format": "pt", "double_seed": str(seed), "double_salt": salt}
    tensors: dict[str, object] = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name, shape in (
        ("transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight", [rank, width]),
        ("transformer.single_transformer_blocks.0.attn.to_q.lora_B.weight", [width, rank]),
    ):
        size = shape[0] * shape[1] * 4
        tensors[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        blobs.append(bytes((seed + i) % 251 for i in range(size)))
        offset += size
    header = json.dumps(tensors, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)


@lru_cache(maxsize=32)  # encoding a full-size JPEG costs ~0.2 s; tests reuse seeds
def gradient_jpeg(width: int, height: int, *, seed: int, label: str = "") -> bytes:
    """A vertical gradient whose colours depend on the seed, with the seed printed on it."""
    top = ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)
    bottom = (255 - top[0], 255 - top[1], 255 - top[2])
    ramp = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), ramp
    )
    ImageDraw.Draw(image).text((16, 16), f"seed {seed} {label}".strip(), fill=(255, 255, 255))
    buffer = io.BytesIO()
    # Like some providers, the double writes its generation parameters into the file.
    image.save(buffer, "JPEG", quality=70, comment=f"prompt seed {seed} {label}".encode())
    return buffer.getvalue()


def portrait_jpeg(source: bytes, width: int, height: int, *, seed: int) -> bytes:
    """A "generated" headshot of the person a LoRA was trained on: one of the training photos,
    fitted whole into the requested size over a blurred, seed-tinted backdrop of itself. The
    face stays intact, so our likeness scoring sees the real person."""
    photo = Image.open(io.BytesIO(source)).convert("RGB")
    backdrop = photo.resize((width, height)).filter(ImageFilter.GaussianBlur(24))
    tint = Image.new("RGB", (width, height), ((seed * 37) % 256, (seed * 91) % 256, 180))
    canvas = Image.blend(backdrop, tint, 0.35)
    scale = min(width / photo.width, height / photo.height)
    fitted = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))))
    canvas.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
