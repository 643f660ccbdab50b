from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pejling.followup.reminders import send_reminders, send_reminders_task


class Command(BaseCommand):
    help = "Remind unit heads by e-mail of deadlines coming up (run daily)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="send at once instead of through the worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            self.stdout.write(f"{send_reminders()} reminder e-mails sent.")
        else:
            result = send_reminders_task.enqueue()
            self.stdout.write(
                f"Reminders queued (task {result.id}); the worker (pejling db_worker) sends them."
            )
