"""Data quality rules: versioned checks that find doubtful values in the registry, each finding located."""
