"""Reads of export jobs: a user sees only their own."""

from django.db.models import QuerySet
from django.http import Http404

from crm.exports.models import ExportJob


def jobs_of(user) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-pk")


def job_get_for_user(*, user, job_id) -> ExportJob:
    """The user's own job, or 404 alike for missing and someone else's."""
    try:
        return jobs_of(user).get(pk=int(job_id))
    except (ExportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
