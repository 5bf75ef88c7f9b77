"""The web console at /console: dataset groups, training, campaigns, event trackers.

Server-rendered HTML (no framework, no build step): `app` routes and authenticates,
`pages` renders each page from a `reader` (the viewer's API calls through the gateway),
`plot` draws the training chart as inline SVG, `session` signs the login cookie.
"""
