"""Endorsement at clearance: the quantities shipped are taken from the balances."""
