"""Webhook subscriptions and their deliveries (admins)."""
