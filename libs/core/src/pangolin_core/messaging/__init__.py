"""NATS JetStream backbone: streams, CloudEvents envelope, outbox, idempotent consumers, RPC."""
