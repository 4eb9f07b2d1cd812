"""Study monitoring: safety signals derived from the registry's records (and, later, visits)."""
