"""The TAXII 2.1 server at `/taxii2/`: discovery, API root, collections, objects, status."""
