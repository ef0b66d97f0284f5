"""STIX 2.1: how intel-share's records are written as STIX objects and read back from them."""
