"""The ``intakeguard`` command line: argument parsing (main) and the one-shot commands."""
