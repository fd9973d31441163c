"""Helpers for tests that need real outside programs.

- ``postgres``: a throwaway PostgreSQL server (``start_postgres()``).
- ``chromium``: Debian's Chromium driven by Playwright (``launch()``).
"""
