from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, pre_delete


class HeatmapConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "heatmap"
    verbose_name = "Skill check heatmap"

    def ready(self) -> None:
        # A task deleted by any path (a retry's failed tasks, a run's deletion, the admin)
        # hands its key's aggregates on in the same transaction (services.newest).
        from heatmap.models import TaskResult

        pre_delete.connect(_task_deleting, sender=TaskResult, dispatch_uid="newest-pre")
        post_delete.connect(_task_deleted, sender=TaskResult, dispatch_uid="newest-post")


def _task_deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    from heatmap.services.newest import newest_task_removing

    instance._newest_removed = newest_task_removing(instance)


def _task_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from heatmap.services.newest import newest_task_removed

    if getattr(instance, "_newest_removed", False):
        newest_task_removed(instance)
