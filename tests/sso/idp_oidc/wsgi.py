import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.sso.idp_oidc.settings")
application = get_wsgi_application()
