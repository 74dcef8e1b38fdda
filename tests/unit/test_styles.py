"""The style catalogue and prompt composition."""

from __future__ import annotations

from headshot.domain.styles import CATALOGUE, compose_prompt, find_style


def test_catalogue_has_enough_independent_choices() -> None:
    assert len(CATALOGUE["background"]) >= 8
    assert len(CATALOGUE["attire"]) >= 6
    assert len(CATALOGUE["lighting"]) >= 5
    for axis, styles in CATALOGUE.items():
        ids = [s.id for s in styles]
        assert len(ids) == len(set(ids)), f"duplicate ids on {axis}"
        assert all(s.axis == axis and s.name and s.description and s.prompt for s in styles)


def test_prompt_names_the_person_the_framing_and_each_axis() -> None:
    background = find_style("background", "office")
    attire = find_style("attire", "business-suit")
    lighting = find_style("lighting", "rembrandt")
    assert background and attire and lighting
    prompt = compose_prompt(
        trigger_phrase="hsperson", background=background, attire=attire, lighting=lighting
    )
    assert prompt.startswith("professional headshot photograph of hsperson")
    assert "head and shoulders" in prompt
    for style in (background, attire, lighting):
        assert style.prompt in prompt
    assert find_style("background", "nope") is None
