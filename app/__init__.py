"""The decision side of intakeguard: registry, policy, verdicts, records and the REST API."""
