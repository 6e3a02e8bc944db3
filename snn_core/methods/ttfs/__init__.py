"""Time-to-first-spike (Bacho & Chu 2023): the exact event-based engine and the tuned preset."""
