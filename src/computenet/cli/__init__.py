"""The ``cnet`` command line: talks to a server through ``computenet.client`` only."""
