"""The console's paths under /console (app.py routes each; nothing heavy is imported here,
so a Lambda cold start does not pay for the console until it is used)."""
PREFIX = "/console"
PAGES = ("", "/dataset-group", "/solution-version", "/campaign", "/why", "/event-tracker")
JSON_PAGES = ("/event-tracker.json",)
SESSION = ("/login", "/logout")
ROUTES = PAGES + JSON_PAGES + SESSION


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
