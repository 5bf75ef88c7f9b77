"""The record core: kinds, ARNs, the registry over the store, lifecycles, pagination."""
