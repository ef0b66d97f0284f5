"""Evaluation of profiles and of the random sample, and backtests of a profile."""
