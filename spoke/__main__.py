"""`python -m spoke` (what `make run` runs): build the app and serve it with waitress."""

from spoke import create_app
from spoke.runtime.serve import serve

serve(create_app())
