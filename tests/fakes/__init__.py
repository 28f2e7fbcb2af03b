"""Fakes of the external HTTP APIs (real servers on 127.0.0.1) for tests.

Each fake lives in its own module (tests/fakes/zendesk.py, ...) and exports a
pytest fixture; import the fixture or list the module in `pytest_plugins`.
"""
