"""Texting: sending through the guard, inbound replies, providers, conversation queries."""
