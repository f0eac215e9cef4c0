"""The queue: its state machine and estimate (pure), the desk that applies changes, the API."""
