"""Serving: TLS material (`tls`) and the Uvicorn runner (`runner`)."""
