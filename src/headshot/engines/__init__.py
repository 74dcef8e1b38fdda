"""Engines: where training and generation actually happen (fal.ai, the offline studio)."""
