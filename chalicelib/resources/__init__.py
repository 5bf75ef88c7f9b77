"""Control plane: resources, their rules and lifecycles; one method per operation."""
