"""Payments: catalogue, orders, checkout through a provider, webhooks, fulfilment, refunds."""
