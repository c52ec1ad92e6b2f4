"""Contacts: CSV import and the organization's opt-out list (rules, no request)."""
