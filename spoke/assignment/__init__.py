"""The rules of assignment: every change of `campaign_contact.assignment_id` lives here.

Each rule is one function that takes a session, does its work in one transaction (started
with `transactions.begin_write`), records one `assignment_event`, and leaves the commit to the
caller. Routes, jobs, the CLI and tests all call these same functions.
"""
