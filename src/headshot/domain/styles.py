"""The style catalogue: three independent axes (background, attire, lighting) and the one
function that turns a look into a prompt. Engine-specific rendering knobs live in the engines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Axis = Literal["background", "attire", "lighting"]


@dataclass(frozen=True)
class Style:
    id: str
    axis: Axis
    name: str
    description: str
    prompt: str


BACKGROUNDS: tuple[Style, ...] = (
    Style(
        "studio-grey",
        "background",
        "Studio grey",
        "Classic mid-grey seamless backdrop.",
        "seamless mid-grey studio backdrop",
    ),
    Style(
        "studio-white",
        "background",
        "Clean white",
        "Bright white backdrop, crisp and modern.",
        "clean bright white studio backdrop",
    ),
    Style(
        "charcoal",
        "background",
        "Charcoal",
        "Deep charcoal backdrop for a dramatic look.",
        "dark charcoal studio backdrop with subtle vignette",
    ),
    Style(
        "navy-gradient",
        "background",
        "Navy gradient",
        "Corporate navy with a soft glow.",
        "deep navy blue gradient backdrop with soft centre glow",
    ),
    Style(
        "warm-beige",
        "background",
        "Warm beige",
        "Soft beige, friendly and warm.",
        "warm beige textured backdrop",
    ),
    Style(
        "office",
        "background",
        "Modern office",
        "Blurred bright office behind you.",
        "softly blurred modern bright office interior, bokeh",
    ),
    Style(
        "outdoor-green",
        "background",
        "Outdoor park",
        "Blurred greenery, natural daylight.",
        "softly blurred green park foliage, natural bokeh",
    ),
    Style(
        "city",
        "background",
        "City",
        "Blurred city street at golden hour.",
        "softly blurred city street background at golden hour, bokeh",
    ),
)

ATTIRE: tuple[Style, ...] = (
    Style(
        "as-is",
        "attire",
        "As photographed",
        "Keep the clothes from your photos.",
        "wearing their own clothes",
    ),
    Style(
        "business-suit",
        "attire",
        "Business suit",
        "Dark tailored suit, white shirt.",
        "wearing a dark tailored business suit and crisp white shirt",
    ),
    Style(
        "blazer-open",
        "attire",
        "Blazer, open collar",
        "Blazer over an open-collar shirt.",
        "wearing a smart blazer over an open-collar shirt",
    ),
    Style(
        "smart-casual",
        "attire",
        "Smart casual",
        "Knit sweater, relaxed and polished.",
        "wearing a fine knit sweater, smart casual",
    ),
    Style(
        "creative",
        "attire",
        "Creative",
        "Dark turtleneck, minimal and modern.",
        "wearing a black turtleneck, minimal creative style",
    ),
    Style(
        "medical",
        "attire",
        "Medical",
        "White coat over scrubs.",
        "wearing a white medical coat over scrubs",
    ),
)

LIGHTING: tuple[Style, ...] = (
    Style(
        "soft-studio",
        "lighting",
        "Soft studio",
        "Even, flattering softbox light.",
        "soft even studio lighting, large softbox",
    ),
    Style(
        "rembrandt",
        "lighting",
        "Rembrandt",
        "Classic key light with gentle shadow.",
        "Rembrandt lighting, gentle shadow on one cheek",
    ),
    Style(
        "high-key",
        "lighting",
        "High key",
        "Bright, airy, low contrast.",
        "bright high-key lighting, low contrast",
    ),
    Style(
        "golden-hour",
        "lighting",
        "Golden hour",
        "Warm late-afternoon glow.",
        "warm golden hour sunlight, soft glow",
    ),
    Style(
        "dramatic",
        "lighting",
        "Dramatic",
        "Low-key light with deep contrast.",
        "dramatic low-key lighting, deep contrast, rim light",
    ),
)

CATALOGUE: dict[Axis, tuple[Style, ...]] = {
    "background": BACKGROUNDS,
    "attire": ATTIRE,
    "lighting": LIGHTING,
}


def find_style(axis: Axis, style_id: str) -> Style | None:
    return next((s for s in CATALOGUE[axis] if s.id == style_id), None)


def compose_prompt(
    *, trigger_phrase: str, background: Style, attire: Style, lighting: Style
) -> str:
    """The generation prompt: who (the trigger phrase), the framing, then the three axes."""
    subject = trigger_phrase.strip() or "the person"
    parts = (
        f"professional headshot photograph of {subject}",
        "head and shoulders, looking at the camera, sharp focus on the eyes, natural skin texture",
        attire.prompt,
        background.prompt,
        lighting.prompt,
        "85mm lens, shallow depth of field, high detail",
    )
    return ", ".join(parts)
