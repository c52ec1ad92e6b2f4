"""Reports: the campaign dashboard, its activity rollup, and CSV exports."""
