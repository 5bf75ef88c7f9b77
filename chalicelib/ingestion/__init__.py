"""personalize-events: live interactions, items, users and actions."""
