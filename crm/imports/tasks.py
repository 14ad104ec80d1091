"""Import jobs (thin: they take a job id and call the service)."""

from huey.contrib.djhuey import db_task

from crm.imports import services


@db_task()
def import_check(job_id: int) -> None:
    services.job_check(job_id=job_id)


@db_task()
def import_run(job_id: int) -> None:
    services.job_run(job_id=job_id)
