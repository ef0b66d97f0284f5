"""Matching people and companies against the intelligence entities (issue 7):
`POST /v1/intel/match` and the NATS RPC `intel.rpc.match`, over an in-memory index."""
