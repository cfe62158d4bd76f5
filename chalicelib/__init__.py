import os

# pydantic reads the entry points of every installed distribution for plugins when it builds
# its first model: part of every cold start, for plugins this service does not use.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
