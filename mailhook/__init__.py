"""The mail side of intakeguard: canonical messages, checks and instruction extraction."""
