"""Campaigns: the campaign lifecycle, its settings and the Script (rules, no request)."""
