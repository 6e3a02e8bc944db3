"""Training: the one-step-at-a-time trainer and the one evaluation path (test-set passes, sample traces)."""
