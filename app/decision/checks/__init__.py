"""The checks that read the store (registry, earlier messages): one module per check."""
