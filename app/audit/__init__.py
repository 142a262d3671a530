"""The audit chain: entries appended in one hash chain (chain), and their hashes (hashing)."""
