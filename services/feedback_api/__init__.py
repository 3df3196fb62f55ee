"""Public Feedback and Violation Reports API."""
