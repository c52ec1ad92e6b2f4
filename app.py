"""WSGI entry point: `app = create_app()`."""

from spoke import create_app

app = create_app()
