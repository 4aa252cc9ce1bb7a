"""Delivery: finished dossiers copied off the kit to the commune's own storage, verified."""
