"""Delivery: the outbox and what it sends (webhooks to ticketing, alert mail to owners)."""
