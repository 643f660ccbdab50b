"""A real SAML 2.0 identity provider for the tests, run as a second Django process.

djangosaml2idp (the maintained ``djangosaml2idp2`` fork, on pysaml2) with its own small
settings, URLs and SQLite file. ``harness.start_idp`` starts it on a free port; the tests talk
to it over HTTP only, like a browser, plus a token-protected ``/harness/`` endpoint to add
people and register Pejling's SP metadata. See ``tests/sso/test_saml.py``.
"""
