"""Fail closed (issue 13): the table of attacks and legitimate mail, by class."""
