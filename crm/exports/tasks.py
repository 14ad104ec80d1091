"""Background jobs of exports. Jobs are thin: they take ids and call services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from crm.exports import services


@db_task()
def export_job(job_id: int) -> None:
    services.export_run(job_id=job_id)


@db_periodic_task(crontab(hour="3", minute="20"))
def purge_old_exports() -> int:
    return services.exports_purge_old()
