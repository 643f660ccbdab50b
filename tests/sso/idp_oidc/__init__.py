"""A real OpenID Connect provider for the tests: django-oauth-toolkit in a Django process of its
own (``harness.start_idp``), with a login form, RS256-signed ID tokens and the claims Pejling
reads. See ``harness.py`` for how it is started and told which people and clients it knows."""
