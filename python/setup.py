# The metadata is in pyproject.toml; this lets Debian's setuptools build and install offline
# (`python3 setup.py bdist_wheel`, `python3 setup.py install --user`).
from setuptools import setup

setup()
