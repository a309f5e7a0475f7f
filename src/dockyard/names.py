"""Names shared by the templates that create things and the commands that find them again."""

TAG_KEY = "dockyard:name"
"""The tag on every resource dockyard creates; its value is the config's ``name``."""
