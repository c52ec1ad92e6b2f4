"""Accounts: users, organizations, memberships and teams (rules, no request)."""
