"""The offline studio engine: real headshots from the person's own best photos."""

from headshot.engines.studio.engine import ATTIRE_NOTE, StudioEngine
from headshot.engines.studio.models import StudioModels

__all__ = ["ATTIRE_NOTE", "StudioEngine", "StudioModels"]
