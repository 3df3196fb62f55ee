"""Social Media Case Management API."""
