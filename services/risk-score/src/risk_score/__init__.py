"""Pangolin risk-score.

Targeting profiles, explainable risk scoring and control lanes, inspection outcomes, evaluation.
"""
