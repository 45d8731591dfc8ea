"""yamlrender renders a Jinja2 template with the values of a YAML file."""

__version__ = "0.9.2"
