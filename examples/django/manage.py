#!/usr/bin/env python
"""Django's command line: `python manage.py test`, and `python manage.py migrate`, which runs
as a one-off task before a deploy (`dockyard run conduit -- python manage.py migrate`), never
while the image is built."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conduit.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
