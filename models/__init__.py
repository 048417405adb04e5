"""Speech models: a pinned manifest, an offline store assembled from PyPI wheels, and a cached loader."""
