"""dockyard.yml: the models, loading with field paths and lines, and the starter file."""

from dockyard.config.loading import (
           EXAMPLE_SOURCE,
           LoadedConfig,
           load_config,
           parse_config,
           starter_text,
)
from dockyard.config.models import App, Config

__all__ = ["EXAMPLE_SOURCE", "App", "Config", "LoadedConfig", "load_config", "parse_config",
           "starter_text"]
