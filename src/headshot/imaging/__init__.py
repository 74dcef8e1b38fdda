"""Photo intake: safe decoding, one analysis pass per photo, per-photo and set checks, compression.

Bytes go in; findings and processed images come out. Nothing here touches the database or blobs,
and nothing is built at import time: models load lazily, once per process, behind a lock.
"""
