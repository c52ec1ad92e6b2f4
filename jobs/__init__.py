"""Jobs: plain functions that take ids, open the app context, call the domain, commit."""
