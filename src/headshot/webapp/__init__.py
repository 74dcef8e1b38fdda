"""The installable web app (static files served by `api.routes.webapp`)."""
