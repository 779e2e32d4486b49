"""Drafting propositions from a commentary's own words: `forecast-tracker extract`."""
