"""Exports (SYS-3): check the request, write the file (directly for small sets, as a Huey job for
large ones), log it and tell the user where to download it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import log_action
from crm.core import spreadsheets
from crm.exports import registry
from crm.exports.models import ExportJob

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
MAX_IDS = 10_000
MAX_PARAMS_LENGTH = 4000
KEEP_DAYS = 7


def sync_limit() -> int:
    return int(getattr(settings, "EXPORT_SYNC_LIMIT", 2000))


def export_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "exports"


# ---------------------------------------------------------------- input


def params_querydict(params: Any) -> QueryDict:
    """The list's query string as a QueryDict, from a string ("q=abc&status=new") or a mapping
    ({"q": "abc", "f": ["owner", "status"]})."""
    query = QueryDict(mutable=True)
    if params in (None, ""):
        return query
    if isinstance(params, str):
        if len(params) > MAX_PARAMS_LENGTH:
            raise ValidationError(_("列表条件太长。"))
        return QueryDict(params.lstrip("?"), mutable=True)
    if isinstance(params, dict):
        for key, value in params.items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
                raise ValidationError(
                    _("列表条件“%(key)s”的取值必须是文字或文字列表。") % {"key": str(key)[:40]}
                )
            query.setlist(str(key), [str(v) for v in values])
        if len(query.urlencode()) > MAX_PARAMS_LENGTH:
            raise ValidationError(_("列表条件太长。"))
        return query
    raise ValidationError(_("列表条件必须是查询字符串或对象。"))


def _stored_params(query: QueryDict) -> dict[str, list[str]]:
    return {key: query.getlist(key) for key in query}


def _querydict(stored: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in (stored or {}).items():
        query.setlist(key, list(values))
    return query


def clean_ids(ids: Any) -> list[int]:
    if ids in (None, ""):
        return []
    if isinstance(ids, str):
        ids = [part for part in ids.split(",") if part.strip()]
    if not isinstance(ids, (list, tuple)):
        raise ValidationError(_("选中的记录必须是编号列表。"))
    found = []
    for value in ids:
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit() or len(text) > 18:
            raise ValidationError(_("选中的记录编号“%(value)s”无效。") % {"value": text[:20]})
        found.append(int(text))
    if len(found) > MAX_IDS:
        raise ValidationError(_("一次最多导出 %(max)d 条选中的记录。") % {"max": MAX_IDS})
    return list(dict.fromkeys(found))


def _spec(list_key: str) -> registry.ListSpec:
    spec = registry.get(list_key)
    if spec is None:
        raise ValidationError(_("未知的列表“%(key)s”。") % {"key": str(list_key)[:40]})
    return spec


def _rows(spec: registry.ListSpec, user, query: QueryDict, scope: str, ids: list[int]):
    try:
        rows = spec.rows(user, query)
    except registry.BadParamsError as exc:
        raise ValidationError(
            _("筛选条件“%(condition)s”无效：只能按列表提供的字段、条件和取值筛选或排序。")
            % {"condition": str(exc)}
        ) from exc
    if scope == ExportJob.Scope.SELECTED:
        rows = rows.filter(pk__in=ids)
    return rows


# ---------------------------------------------------------------- start


def export_create(
    *,
    actor,
    list_key: str,
    format: str = ExportJob.Format.XLSX,  # noqa: A002 - the API's word
    scope: str = ExportJob.Scope.ALL,
    params: Any = None,
    ids: Any = None,
    columns: str = ExportJob.ColumnsMode.VISIBLE,
    ip: str | None = None,
) -> ExportJob:
    """Check the request and start the export: a set of at most EXPORT_SYNC_LIMIT rows is written
    before this returns (status done); a larger one is queued as a background job. Raises
    PermissionRequiredError without the list's export permission, ValidationError on bad input;
    either way nothing is created."""
    spec = _spec(list_key)
    if not policy.can(actor, spec.permission):
        raise PermissionRequiredError(spec.permission)
    if format not in ExportJob.Format.values:
        raise ValidationError(_("导出格式只能是 Excel（xlsx）或 CSV（csv）。"))
    if scope not in ExportJob.Scope.values:
        raise ValidationError(_("导出范围只能是“当前结果”（all）或“选中的记录”（selected）。"))
    if columns not in ExportJob.ColumnsMode.values:
        raise ValidationError(_("导出列只能是“列表显示的列”（visible）或“全部字段”（all）。"))
    query = params_querydict(params)
    chosen = clean_ids(ids)
    if scope == ExportJob.Scope.SELECTED and not chosen:
        raise ValidationError(_("请先勾选要导出的记录。"))
    rows = _rows(spec, actor, query, scope, chosen)
    limit = sync_limit()
    capped = rows.order_by()[: limit + 1].count()
    job = ExportJob.objects.create(
        user=actor,
        list_key=spec.key,
        format=format,
        scope=scope,
        params=_stored_params(query),
        ids=chosen if scope == ExportJob.Scope.SELECTED else [],
        columns=columns,
        total=capped,
    )
    if capped <= limit:
        export_run(job_id=job.pk, ip=ip, background=False)
        job.refresh_from_db()
    else:
        from crm.exports.tasks import export_job

        transaction.on_commit(lambda: export_job(job.pk))
    return job


# ---------------------------------------------------------------- run


def _chunks(iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def export_rows(
    job: ExportJob, *, progress: bool = False, limit: int | None = None
) -> tuple[list[str], Iterator[list], Any]:
    """(headers, rows, queryset) of the job's export for its user; rows are read in chunks of
    CHUNK_SIZE with their related records, so the queries are bounded per chunk. `limit` caps
    the rows (benchmarks)."""
    spec = _spec(job.list_key)
    query = _querydict(job.params)
    rows = _rows(spec, job.user, query, job.scope, list(job.ids or []))
    cols = spec.columns(job.user, query, job.columns)
    queryset = rows
    if cols.related:
        queryset = queryset.select_related(*cols.related)
    if cols.prefetch:
        queryset = queryset.prefetch_related(*cols.prefetch)
    if cols.only is not None:
        queryset = queryset.only(*cols.only)
    headers = [c.label for c in cols.columns]
    if limit is not None:
        queryset = queryset[:limit]
    if cols.fast:
        return headers, _fast_rows(job, cols, rows, progress, limit), queryset
    getters = [c.value for c in cols.columns]

    def generate() -> Iterator[list]:
        done = 0
        for chunk in _chunks(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
            if cols.prepare_chunk is not None:
                cols.prepare_chunk([getattr(obj, "custom_data", None) for obj in chunk])
            for obj in chunk:
                yield [get(obj) for get in getters]
            done += len(chunk)
            if progress:
                ExportJob.objects.filter(pk=job.pk).update(done_rows=done)

    return headers, generate(), queryset


def _fast_rows(
    job: ExportJob, cols: registry.Columns, rows, progress: bool, limit: int | None
) -> Iterator[list]:
    """Rows read as plain tuples (values_list of the columns' fields, related names joined in
    the same query): no model instances, the same values as the column getters give."""
    paths = ["pk"] + [p for p in cols.only if p != "pk"]
    index = {path: i for i, path in enumerate(paths)}
    plans = [(c.from_values, [index[p] for p in c.only]) for c in cols.columns]
    custom_index = index.get("custom_data")
    values = rows.values_list(*paths)
    if limit is not None:
        values = values[:limit]
    done = 0
    for chunk in _chunks(values.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
        if cols.prepare_chunk is not None and custom_index is not None:
            cols.prepare_chunk([row[custom_index] for row in chunk])
        for row in chunk:
            yield [convert(*[row[i] for i in positions]) for convert, positions in plans]
        done += len(chunk)
        if progress:
            ExportJob.objects.filter(pk=job.pk).update(done_rows=done)


def _filename(job: ExportJob, spec: registry.ListSpec) -> str:
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M%S")
    return f"{spec.label}-{stamp}.{job.format}"


def export_write(job: ExportJob, target, *, progress: bool = False, limit: int | None = None) -> int:
    """Write the job's file to `target` (a binary file); returns the number of rows."""
    spec = _spec(job.list_key)
    headers, rows, _queryset = export_rows(job, progress=progress, limit=limit)
    if job.format == ExportJob.Format.CSV:
        return spreadsheets.csv_write(target, headers, rows)
    return spreadsheets.xlsx_write(target, headers, rows, title=str(spec.label))


def export_run(*, job_id: int, ip: str | None = None, background: bool = True) -> ExportJob | None:
    """Write one job's file under MEDIA_ROOT/exports, then log it (and, for a background job,
    tell the user in the message centre). A failure marks the job failed with the reason and
    leaves no file behind."""
    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    spec = _spec(job.list_key)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"exports/{job.pk}-{uuid.uuid4().hex}.{job.format}"
    path = Path(settings.MEDIA_ROOT) / relative
    try:
        if background:
            _head, _rows_iter, queryset = export_rows(job)
            ExportJob.objects.filter(pk=job.pk).update(total=queryset.order_by().count())
        # A direct export reads in a savepoint, so that a database error leaves the request's
        # transaction usable; a background one must not (its progress has to be visible).
        with nullcontext() if background else transaction.atomic(), path.open("wb") as target:
            count = export_write(job, target, progress=background)
    except Exception as exc:
        path.unlink(missing_ok=True)
        logger.exception("export %s failed", job.pk)
        message = (
            exc.messages[0]
            if isinstance(exc, ValidationError)
            else _("导出时出错：%(error)s") % {"error": str(exc)[:300] or exc.__class__.__name__}
        )
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=message[:500], finished_at=timezone.now()
        )
        if background:
            _notify(job, spec, failed=True, message=message)
        return ExportJob.objects.get(pk=job.pk)
    job.status = ExportJob.Status.DONE
    job.total = count
    job.done_rows = count
    job.file_path = relative
    job.filename = _filename(job, spec)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "total", "done_rows", "file_path", "filename", "finished_at"])
    log_action(
        actor=job.user,
        action="export.created",
        target=job,
        message=_("导出%(list)s %(count)d 条（%(format)s）")
        % {
            "list": spec.label,
            "count": count,
            "format": job.get_format_display(),
        },
        ip_address=ip,
    )
    if background:
        _notify(job, spec)
    return job


def _notify(job: ExportJob, spec: registry.ListSpec, *, failed: bool = False, message: str = "") -> None:
    from crm.messaging.services import notification_send

    if failed:
        notification_send(
            recipient=job.user,
            title=_("导出失败：%(list)s") % {"list": spec.label},
            body=message,
            url=reverse("exports:detail", args=[job.pk]),
        )
        return
    notification_send(
        recipient=job.user,
        title=_("导出完成：%(list)s") % {"list": spec.label},
        body=_("共 %(count)d 条记录，文件 %(name)s 可在 7 天内下载。")
        % {"count": job.total, "name": job.filename},
        url=reverse("exports:download", args=[job.pk]),
    )


def file_path(job: ExportJob) -> Path | None:
    if job.status != ExportJob.Status.DONE or not job.file_path:
        return None
    path = Path(settings.MEDIA_ROOT) / job.file_path
    return path if path.is_file() else None


def exports_purge_old(*, days: int = KEEP_DAYS, now=None) -> int:
    """Remove the files of exports older than `days` days (the job rows stay, without a file)."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    old = ExportJob.objects.filter(created_at__lt=cutoff).exclude(file_path="")
    for job in old.only("pk", "file_path").iterator(chunk_size=500):
        (Path(settings.MEDIA_ROOT) / job.file_path).unlink(missing_ok=True)
        removed += 1
    old.update(file_path="")
    return removed
