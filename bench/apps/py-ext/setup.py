from setuptools import Extension, setup

setup(
    name="textstats",
    version="1.1.0",
    description="Small statistics about text, with the hot loops in C",
    packages=["textstats"],
    ext_modules=[Extension("textstats._speedups", ["src/_speedups.c"])],
    python_requires=">=3.9",
)
