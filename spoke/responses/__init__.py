"""Canned responses, survey questions and the answers texters record for contacts."""
