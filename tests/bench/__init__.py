"""The benchmark: a reproducible corpus, verification, SMTP, API, memory and growth figures."""
