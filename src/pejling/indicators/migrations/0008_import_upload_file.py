"""Uploaded files leave the database for the "imports" storage (settings.STORAGES): each
batch's kept upload (``payload``) is written there as a file and referenced by ``file``; the
worker's check keeps its findings on the batch (``preview``, ``incomplete``, ``errors_total``)
and its progress (``phase``...). A batch waiting for confirmation keeps its preview empty
until it is checked again; its file is there to do so."""

from django.db import migrations, models


def payloads_to_files(apps, schema_editor):
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages
    from django.utils.crypto import get_random_string

    ImportBatch = apps.get_model("indicators", "ImportBatch")
    storage = storages["imports"]
    pending = ImportBatch.objects.filter(payload__isnull=False).only("pk", "filename", "status")
    for batch in pending.iterator(chunk_size=1):
        data = ImportBatch.objects.values_list("payload", flat=True).get(pk=batch.pk)
        suffix = "." + batch.filename.rsplit(".", 1)[-1].lower() if "." in batch.filename else ""
        if not suffix[1:].isalnum() or len(suffix) > 8:
            suffix = ""
        name = storage.save(f"migrated/{get_random_string(24)}{suffix}", ContentFile(bytes(data)))
        fields = {"file": name}
        if batch.status == "preview":
            # The old page parsed the kept file on every view; now the worker's check keeps
            # what it found. Such a batch is checked again: "interrupted while checking".
            fields.update(
                status="interrupted",
                errors=[{"row": None, "column": None, "code": "check_interrupted", "detail": ""}],
            )
        ImportBatch.objects.filter(pk=batch.pk).update(**fields)


def files_to_payloads(apps, schema_editor):
    pass  # the files stay where they are; going back leaves the old batches without payload


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0007_fetch_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalimportbatch",
            name="errors_total",
            field=models.PositiveIntegerField(default=0, verbose_name="problems"),
        ),
        migrations.AddField(
            model_name="historicalimportbatch",
            name="file",
            field=models.CharField(
                blank=True, editable=False, max_length=255, verbose_name="uploaded file"
            ),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="errors_total",
            field=models.PositiveIntegerField(default=0, verbose_name="problems"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="file",
            field=models.CharField(
                blank=True, editable=False, max_length=255, verbose_name="uploaded file"
            ),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="incomplete",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="phase",
            field=models.CharField(blank=True, editable=False, max_length=20),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="phase_done",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="phase_total",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="preview",
            field=models.JSONField(
                blank=True, default=list, editable=False, verbose_name="preview"
            ),
        ),
        migrations.AlterField(
            model_name="historicalimportbatch",
            name="status",
            field=models.CharField(
                choices=[
                    ("checking", "Checking"),
                    ("preview", "Waiting for confirmation"),
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("done", "Imported"),
                    ("failed", "Rejected"),
                    ("interrupted", "Interrupted"),
                ],
                default="preview",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="status",
            field=models.CharField(
                choices=[
                    ("checking", "Checking"),
                    ("preview", "Waiting for confirmation"),
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("done", "Imported"),
                    ("failed", "Rejected"),
                    ("interrupted", "Interrupted"),
                ],
                default="preview",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(payloads_to_files, files_to_payloads),
        migrations.RemoveField(
            model_name="importbatch",
            name="payload",
        ),
    ]
