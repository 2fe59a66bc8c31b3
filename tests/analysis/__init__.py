"""Statement analysis: lossy downs read by real parsers, on every database."""
