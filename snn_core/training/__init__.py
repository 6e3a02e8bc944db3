"""Training: the one-step-at-a-time trainer."""
