"""Model and Recipe at their old import path (chalicelib.models.base is where they live)."""
from chalicelib.models.base import Model, Recipe

__all__ = ["Model", "Recipe"]
