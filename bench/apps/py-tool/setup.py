from setuptools import setup

setup(
    name="yamlrender",
    version="0.9.2",
    description="Render a Jinja2 template with the values of a YAML file",
    packages=["yamlrender"],
    install_requires=["PyYAML>=5.4", "Jinja2>=3.0"],
    entry_points={"console_scripts": ["yamlrender = yamlrender.cli:main"]},
)
