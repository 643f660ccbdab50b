"""Tests that span the apps: every page through the test client, query counts of the busiest
pages, and the translation catalogues."""
