"""The reproduction report: one section per paper, shared table parts and plain-language verdicts."""
