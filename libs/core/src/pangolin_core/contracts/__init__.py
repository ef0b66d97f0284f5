"""Contracts shared between services: the event envelope, event and RPC payloads, roles."""
