"""Files in and out: CSV import and export, and atomic writes. Everything here takes a connection."""
