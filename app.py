"""Entry point: ``flask --app app run``."""

from portal import create_app

app = create_app()
