"""Webhooks: signed HTTP callbacks to the integrator's backend for what happens in an app."""
