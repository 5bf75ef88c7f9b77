"""ItemCatalog: the Items rows aligned with a model's item order for filters and metadata."""
import numpy as np

from chalicelib.serving.catalog import ItemCatalog


def table(ids, genres):
    return {"ITEM_ID": np.array(ids, dtype=object), "GENRE": np.array(genres, dtype=object)}


def test_a_table_in_the_models_order_shares_the_models_id_map():
    item_ids = ["a", "b", "c"]
    positions = {item: row for row, item in enumerate(item_ids)}
    catalog = ItemCatalog(item_ids, table(item_ids, ["x", "y", "z"]), {}, positions)
    assert catalog._rows is positions and catalog.index._positions is positions
    assert catalog.metadata("b")["GENRE"] == "y"
    assert catalog.position("c") == 2
    positions["d"] = 3   # the model learnt an item after the catalogue was built
    assert catalog.metadata("d") is None and catalog.position("d") is None


def test_a_table_in_another_order_is_joined_by_id():
    item_ids = ["a", "b", "c"]
    positions = {item: row for row, item in enumerate(item_ids)}
    catalog = ItemCatalog(item_ids, table(["c", "zz", "a"], ["z", "w", "x"]), {}, positions)
    assert catalog._rows is not positions
    assert catalog.metadata("zz")["GENRE"] == "w"          # in Items, not in the model
    assert catalog.metadata("b") is None
    assert list(catalog.index.columns["GENRE"]) == ["x", None, "z"]
    assert catalog.position("b") == 1
