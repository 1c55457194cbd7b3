"""Services and the controller loop: where the layers meet."""
