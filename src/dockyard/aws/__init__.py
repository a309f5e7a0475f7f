"""The only code that touches boto3: one session, typed wrappers, errors translated once."""
