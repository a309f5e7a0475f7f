"""Rendering only: text and JSON for stdout, progress and errors for stderr. Never imports boto3."""
