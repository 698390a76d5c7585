"""The baseline for bench/live_load.py: the live room as the Channels tutorial would have you write it."""
