"""The records: verdicts, reviews, verifications, retention and the audit chain."""
