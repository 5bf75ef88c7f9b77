"""The Amazon Personalize filter expression language: parser and item masks.

    flt = parse_filter('EXCLUDE ItemID WHERE Items.GENRE IN ($GENRES)')
    flt.placeholders                      # ['GENRES']
    index = CatalogIndex(item_ids, {"GENRE": genres})   # once per catalogue, then reused
    mask = flt.mask(FilterContext(index), {"GENRES": '"comedy","drama"'})
"""
from chalicelib.filters.masks import CatalogIndex, FilterContext, parse_filter_value
from chalicelib.filters.nodes import Filter
from chalicelib.filters.parser import parse_filter

__all__ = ["parse_filter", "Filter", "FilterContext", "CatalogIndex", "parse_filter_value"]
