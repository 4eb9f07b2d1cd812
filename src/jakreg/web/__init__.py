"""The multicentre server: accounts, per-centre scoping, data-entry pages and the JSON API."""
