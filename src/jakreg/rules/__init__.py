"""Clinical rules as pure, versioned, cited functions and data files."""
