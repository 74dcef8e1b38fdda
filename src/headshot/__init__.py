"""Headshot: professional headshots from selfies."""

__version__ = "0.1.0"
