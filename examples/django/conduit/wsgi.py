"""The WSGI application gunicorn serves (see the Dockerfile)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conduit.settings")
application = get_wsgi_application()
