"""The `web/` package: `serve`, the tracker in a browser and a JSON API (the `web` extra)."""
