"""Social Media Policy API."""
