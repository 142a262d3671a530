"""Serving: the API and SMTP listeners, the worker supervisor, the hand-offs to the decision."""
