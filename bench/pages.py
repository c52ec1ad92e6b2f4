"""What the load users read from spoke's pages (shared by the locustfile and its test)."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SEND = re.compile(r'action="/texting/contacts/(\d+)/send"')
CONVERSATION = re.compile(r'href="/texting/contacts/(\d+)"')
