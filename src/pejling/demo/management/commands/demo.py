from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from pejling.demo.data import ORGANISATION_NAME
from pejling.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the demo organisation (idempotent) and print the demo log-ins."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo organisation loaded: {ORGANISATION_NAME}"))
        self.stdout.write("Demo log-ins (only the demo command creates these accounts):")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<18} {login.password:<28} {login.name}, {login.role}, {login.unit}"
            )
