"""Records (SQL), blobs (filesystem / S3) and envelope encryption."""
