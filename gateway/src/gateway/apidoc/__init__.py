"""One API description for the whole suite: the gateway's paths and the services' it forwards."""
