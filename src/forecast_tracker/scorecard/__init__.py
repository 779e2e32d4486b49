"""Scores and monthly scorecards: the point-in-time dataset, scores, the typed template context,
template filters, charts and rendering. Reads through a connection; never writes the database."""
