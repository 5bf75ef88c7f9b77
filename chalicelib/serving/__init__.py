"""personalize-runtime: recommendations and rankings from deployed models."""
