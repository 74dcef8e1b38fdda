"""Use cases. Each service gets its collaborators through its constructor (see `wiring.py`)."""
