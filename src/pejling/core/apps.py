from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "pejling.core"
    label = "core"

    def ready(self) -> None:
        from simple_history.signals import post_create_historical_record

        from pejling.core.sources import record_source

        post_create_historical_record.connect(
            record_source, dispatch_uid="pejling.core.record_source"
        )
