"""The decision: the service that turns a checked message into a verdict, the policy, rules."""
