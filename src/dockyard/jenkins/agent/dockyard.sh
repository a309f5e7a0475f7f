#!/bin/sh
# The dockyard CLI, as installed in the agent image.
PYTHONPATH=/opt/dockyard/lib exec /opt/dockyard/venv/bin/python -m dockyard "$@"
