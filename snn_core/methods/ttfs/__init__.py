"""Time-to-first-spike (Bacho & Chu 2023; Fast & Deep): the exact engine, regulariser, weight bumping, preset."""
