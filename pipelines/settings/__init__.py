"""Typed settings: the YAML files under config/ validated into frozen pydantic dataclasses."""
