"""Views: request, forms and templates, one module per blueprint or page group."""
