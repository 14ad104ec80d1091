"""The import machinery (SYS-3): upload, column mapping, dry run, run, failed rows, templates.

A file goes through two passes over the same rows, both as jobs (crm/imports/tasks.py):

- the dry run (`job_check`) checks every row with the target and writes nothing; the user sees
  the counts (create/update/skip) and every error with its row, column and reason;
- the run (`job_run`) checks every row again (the database may have changed meanwhile) and writes
  the rows in batches inside ONE transaction: the file is all-or-nothing. Any failure (a row that
  became invalid, a database error, an exception) rolls everything back, and the job is marked
  failed with the reason outside the rolled-back transaction.

While the run's transaction is open the web process cannot read progress from the database, so
progress and heartbeat live in the cache (shared by web and worker); the final counts go to the
job row. A running job whose heartbeat is older than STALE_AFTER is shown as failed.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.audit.services import log_action
from crm.customfields import selectors as cf_selectors
from crm.imports.models import ImportJob, ImportMapping
from crm.imports.reader import SpreadsheetError, count_rows, open_table
from crm.imports.targets import all_targets, get_target
from crm.imports.targets.base import ImportField, ImportTarget, RowOutcome

logger = logging.getLogger(__name__)

MAX_ERRORS = 10_000  # error entries kept on the job row; the failed-rows file holds them all
STALE_AFTER = timedelta(minutes=2)
PROGRESS_EVERY = 200  # rows between two progress/heartbeat updates
ALLOWED_SUFFIXES = (".xlsx", ".csv")
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
ERROR_HEADER = "错误原因"


class RunAbortedError(Exception):
    """The run met a row that is no longer valid; the transaction is rolled back."""


# ---------------------------------------------------------------- targets and access


def targets_for(user) -> list[ImportTarget]:
    return [t for t in all_targets() if policy.can(user, t.permission)]


def target_for(user, key: str) -> ImportTarget:
    """The target, 404 when unknown, PermissionDenied (403) without its permission."""
    target = get_target(key)
    if target is None:
        raise Http404
    if not policy.can(user, target.permission):
        raise PermissionDenied
    return target


def job_get_for_user(*, user, job_id) -> ImportJob:
    """The user's own job; 404 alike for missing and someone else's."""
    try:
        job = ImportJob.objects.get(pk=int(job_id), user=user)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    target_for(user, job.target)
    return job


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def storage_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---------------------------------------------------------------- header matching


def normalise_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    text = re.sub(r"[（(]\s*必填\s*[)）]", "", text)
    return re.sub(r"[\s*_\-:：]", "", text)


def auto_mapping(user, target: ImportTarget, headers: list[str], fields: list[ImportField]) -> dict[str, str]:
    """{column index: field key}: the user's remembered mapping first, then labels/aliases/keys."""
    known = {f.key for f in fields}
    remembered = ImportMapping.objects.filter(user=user, target=target.key).values_list("mapping", flat=True)
    memory = remembered.first() or {}
    by_name: dict[str, str] = {}
    for field in fields:
        for name in field.header_names():
            by_name.setdefault(normalise_header(name), field.key)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        norm = normalise_header(header)
        key = memory.get(norm)
        if key is None:
            key = by_name.get(norm)
        if key and key in known and key not in used:
            mapping[str(index)] = key
            used.add(key)
    return mapping


def remember_mapping(user, target_key: str, headers: list[str], mapping: dict[str, str]) -> None:
    memory = {normalise_header(headers[int(i)]): key for i, key in mapping.items() if key}
    # A column the user deliberately left unmapped is remembered as "" (so it is not auto-matched).
    for header in headers:
        memory.setdefault(normalise_header(header), "")
    ImportMapping.objects.update_or_create(user=user, target=target_key, defaults={"mapping": memory})


def clean_mapping(target: ImportTarget, fields: list[ImportField], headers: list[str], raw: dict) -> dict:
    """Validate a mapping {column index: field key}; raises ValidationError (Chinese)."""
    known = {f.key: f for f in fields}
    mapping: dict[str, str] = {}
    errors: list[str] = []
    seen: dict[str, str] = {}
    for index, key in (raw or {}).items():
        if not key:
            continue
        try:
            column = int(index)
        except (TypeError, ValueError):
            errors.append(_("列序号“%(index)s”无效。") % {"index": index})
            continue
        if not 0 <= column < len(headers):
            errors.append(_("列序号“%(index)s”无效。") % {"index": index})
            continue
        if key not in known:
            errors.append(_("“%(key)s”不是可导入的字段。") % {"key": key})
            continue
        if key in seen:
            errors.append(
                _("“%(a)s”和“%(b)s”两列都对应到了字段“%(field)s”，一个字段只能对应一列。")
                % {"a": seen[key], "b": headers[column], "field": known[key].label}
            )
            continue
        seen[key] = headers[column]
        mapping[str(column)] = key
    errors.extend(
        _("必填字段“%(field)s”没有对应的列。") % {"field": field.label}
        for field in fields
        if field.required and field.key not in seen
    )
    if errors:
        raise ValidationError(errors)
    return mapping


# ---------------------------------------------------------------- upload


def job_create(*, user, target_key: str, upload) -> ImportJob:
    """Store the uploaded file, read its header, auto-match the columns. Raises ValidationError."""
    target = target_for(user, target_key)
    name = Path(str(getattr(upload, "name", "") or "")).name[:255]
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError(_("请上传 .xlsx 或 .csv 文件。"))
    if upload.size > max_bytes():
        raise ValidationError(
            _("文件太大（%(size)s MB），最多 %(max)s MB。")
            % {"size": round(upload.size / 1024 / 1024, 1), "max": max_bytes() // (1024 * 1024)}
        )
    path = storage_dir() / f"{uuid.uuid4().hex}{Path(name).suffix.lower()}"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        table = open_table(path, name)
        headers = list(table.headers)
        table.close()
        total = count_rows(path, name)
    except SpreadsheetError as exc:
        path.unlink(missing_ok=True)
        raise ValidationError(str(exc)) from exc
    if total == 0:
        path.unlink(missing_ok=True)
        raise ValidationError(_("文件中只有表头，没有数据行。"))
    fields = target.fields(user)
    job = ImportJob.objects.create(
        user=user,
        target=target.key,
        filename=name,
        stored_path=str(path),
        headers=headers,
        mapping=auto_mapping(user, target, headers, fields),
        dedupe=target.allowed_dedupe_modes(user)[0],
        total=total,
    )
    return job


def job_configure(*, job: ImportJob, user, mapping: dict, dedupe: str) -> ImportJob:
    """Save the mapping (remembered for next time) and the duplicates choice; ready for the dry run."""
    if job.status in (ImportJob.Status.RUNNING, ImportJob.Status.DONE):
        raise ValidationError(_("这个导入任务已经开始，不能再修改。"))
    target = target_for(user, job.target)
    fields = target.fields(user)
    cleaned = clean_mapping(target, fields, job.headers, mapping)
    if dedupe not in target.allowed_dedupe_modes(user):
        raise ValidationError(_("不能选择这种重复处理方式。"))
    remember_mapping(user, target.key, job.headers, cleaned)
    job.mapping = cleaned
    job.dedupe = dedupe
    job.status = ImportJob.Status.UPLOADED
    job.error_message = ""
    job.save(update_fields=["mapping", "dedupe", "status", "error_message"])
    return job


# ---------------------------------------------------------------- progress (cache)


def _progress_key(job_id: int) -> str:
    return f"imports:job:{job_id}:progress"


def progress_set(job_id: int, *, phase: str, processed: int, total: int, beat: bool = True) -> None:
    """`beat` is False when the web process queues a job: only a worker's update proves it alive."""
    cache.set(
        _progress_key(job_id),
        {"phase": phase, "processed": processed, "total": total, "at": time.time() if beat else None},
        timeout=60 * 60 * 24,
    )


def progress_of(job: ImportJob) -> dict[str, Any]:
    """{"phase", "processed", "total", "percent", "stale"} for the progress bar."""
    found = cache.get(_progress_key(job.pk)) or {}
    processed = int(found.get("processed", job.processed))
    total = max(int(found.get("total", job.total)) or job.total, processed, 1)
    at = found.get("at")
    beat = max(
        at or 0,
        job.heartbeat_at.timestamp() if job.heartbeat_at else 0,
    )
    # A queued job has no heartbeat yet: it waits (a busy worker may take a while), it is not dead.
    stale = (
        job.status in (ImportJob.Status.RUNNING, ImportJob.Status.CHECKING)
        and beat > 0
        and time.time() - beat > STALE_AFTER.total_seconds()
    )
    return {
        "phase": found.get("phase", ""),
        "processed": processed,
        "total": total,
        "percent": min(100, int(processed * 100 / total)),
        "stale": stale,
    }


def job_state(job: ImportJob) -> str:
    """The status shown to the user: a running job without a heartbeat for STALE_AFTER is failed."""
    if job.status in (ImportJob.Status.RUNNING, ImportJob.Status.CHECKING) and progress_of(job)["stale"]:
        return ImportJob.Status.FAILED
    return job.status


# ---------------------------------------------------------------- the passes


@dataclass
class PassResult:
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0


class _FailedRows:
    """The failed rows, with their original cells and an 错误原因 column, streamed to an .xlsx."""

    def __init__(self, job: ImportJob):
        from openpyxl import Workbook

        self.path = storage_dir() / f"job{job.pk}_failed.xlsx"
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(_("失败行"))
        self.sheet.append([_text_cell(self.sheet, h) for h in [*job.headers, _(ERROR_HEADER)]])
        self.count = 0

    def add(self, cells: list[str], reasons: list[str]) -> None:
        self.sheet.append([_text_cell(self.sheet, c) for c in [*cells, "；".join(reasons)]])
        self.count += 1

    def save(self) -> Path:
        self.book.save(self.path)
        return self.path


def _text_cell(sheet, value: str):
    """A cell that is always text: a value such as "=1+1" must not become a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=None)
    cell.value = value
    cell.data_type = "s"
    return cell


def failed_rows_path(job: ImportJob) -> Path:
    return storage_dir() / f"job{job.pk}_failed.xlsx"


def _labels(job: ImportJob, fields: list[ImportField]) -> dict[str, str]:
    """field key → what the user sees as the column: its header in the file, else the field label."""
    labels = {f.key: str(f.label) for f in fields}
    for index, key in job.mapping.items():
        labels[key] = job.headers[int(index)]
    return labels


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _pass(job: ImportJob, *, write: bool) -> PassResult:
    """One pass over the file: check every row; with write=True write the good ones in batches."""
    target = target_for(job.user, job.target)
    ctx = target.start(job.user, {"dedupe": job.dedupe})
    labels = _labels(job, ctx.fields)
    columns = [(int(index), key) for index, key in job.mapping.items()]
    result = PassResult()
    errors: list[list[Any]] = []
    job.errors = errors  # kept even when the run aborts half-way
    failed = _FailedRows(job)
    batch: list[RowOutcome] = []
    phase = "run" if write else "check"
    table = open_table(Path(job.stored_path), job.filename)
    cf_selectors.start_request_cache()  # one read of the custom-field definitions for the pass
    try:
        for chunk in _chunks(table.rows, target.batch_size):
            rows = [
                (row_number, {key: cells[index] if index < len(cells) else "" for index, key in columns})
                for row_number, cells in chunk
            ]
            target.prepare(ctx, rows)
            for (row_number, cells), (_number, values) in zip(chunk, rows, strict=True):
                outcome = target.check(ctx, row_number, values)
                result.processed += 1
                if outcome.errors:
                    result.failed += 1
                    reasons = []
                    for key, message in outcome.errors:
                        column = labels.get(key, key)
                        reasons.append(f"{column}：{message}")
                        if len(errors) < MAX_ERRORS:
                            errors.append([row_number, column, message])
                    failed.add(cells, reasons)
                    if write and not job.only_valid:
                        raise RunAbortedError(
                            _("第 %(row)s 行已不能导入（%(reason)s），导入已取消，未写入任何数据。")
                            % {"row": row_number, "reason": "；".join(reasons)}
                        )
                elif outcome.action == "skip":
                    result.skipped += 1
                else:
                    if outcome.action == "update":
                        result.updated += 1
                    else:
                        result.created += 1
                    if write:
                        batch.append(outcome)
                if result.processed % PROGRESS_EVERY == 0:
                    progress_set(job.pk, phase=phase, processed=result.processed, total=job.total)
            if write and batch:  # one write per chunk: the next chunk's look-ups see these rows
                target.write(ctx, batch)
                batch = []
    finally:
        cf_selectors.end_request_cache()
        table.close()
        failed.save()
    progress_set(job.pk, phase=phase, processed=result.processed, total=result.processed)
    job.errors_truncated = result.failed > 0 and len(errors) >= MAX_ERRORS
    return result


def job_check(*, job_id: int) -> ImportJob:
    """The dry run: counts and errors, nothing written."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    job.heartbeat_at = timezone.now()
    job.status = ImportJob.Status.CHECKING
    job.save(update_fields=["heartbeat_at", "status"])
    try:
        result = _pass(job, write=False)
    except (SpreadsheetError, ValidationError, PermissionDenied, Http404) as exc:
        return _fail(job, _message(exc))
    except Exception as exc:
        logger.exception("import dry run %s failed", job.pk)
        return _fail(job, _("检查时出错：%(error)s") % {"error": exc})
    job.status = ImportJob.Status.CHECKED
    job.total = result.processed
    job.processed = result.processed
    job.to_create, job.to_update, job.to_skip = result.created, result.updated, result.skipped
    job.failed_count = result.failed
    job.checked_at = timezone.now()
    job.save()
    return job


def job_start(*, job: ImportJob, user, only_valid: bool) -> ImportJob:
    """Queue the run after a dry run. A file with errors runs only with only_valid (the user chose
    "只导入正确的行")."""
    if job.status != ImportJob.Status.CHECKED:
        raise ValidationError(_("请先完成检查（试导入），再开始导入。"))
    if job.failed_count and not only_valid:
        raise ValidationError(
            _("文件中有 %(count)s 行错误。请修改后重新上传，或选择“只导入正确的行”。")
            % {"count": job.failed_count}
        )
    if not job.failed_count:
        only_valid = False
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(
        status=ImportJob.Status.RUNNING,
        only_valid=only_valid,
        processed=0,
        heartbeat_at=None,
        started_at=timezone.now(),
    )
    if not updated:
        raise ValidationError(_("这个导入任务已经开始了。"))
    job.refresh_from_db()
    progress_set(job.pk, phase="run", processed=0, total=job.total, beat=False)
    from crm.imports.tasks import import_run

    transaction.on_commit(lambda: import_run(job.pk))
    return job


def job_run(*, job_id: int) -> ImportJob:
    """The run: everything in one transaction; any failure leaves nothing of the file."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        return job
    progress_set(job.pk, phase="run", processed=0, total=job.total)  # picked up: the first heartbeat
    try:
        with transaction.atomic():
            result = _pass(job, write=True)
            log_action(
                actor=job.user,
                action="import.completed",
                target=job,
                changes={
                    "target": job.target,
                    "filename": job.filename,
                    "created": result.created,
                    "updated": result.updated,
                    "skipped": result.skipped,
                    "failed": result.failed,
                },
            )
    except (RunAbortedError, SpreadsheetError, ValidationError, PermissionDenied, Http404) as exc:
        return _fail(job, _message(exc), keep_errors=True)
    except Exception as exc:
        logger.exception("import run %s failed", job.pk)
        return _fail(
            job,
            _("导入时出错，已全部撤销，未写入任何数据：%(error)s")
            % {"error": str(exc)[:300] or type(exc).__name__},
            keep_errors=True,
        )
    job.status = ImportJob.Status.DONE
    job.processed = result.processed
    job.created_count, job.updated_count = result.created, result.updated
    job.skipped_count, job.failed_count = result.skipped, result.failed
    job.finished_at = timezone.now()
    job.save()
    Path(job.stored_path).unlink(missing_ok=True)  # imported; the failed-rows file stays for download
    return job


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    if isinstance(exc, (PermissionDenied, Http404)):
        return _("您没有导入这些数据的权限。")
    return str(exc)


def _fail(job: ImportJob, message: str, *, keep_errors: bool = False) -> ImportJob:
    """Mark the job failed, outside any rolled-back transaction."""
    values = {
        "status": ImportJob.Status.FAILED,
        "error_message": message,
        "finished_at": timezone.now(),
        "created_count": 0,
        "updated_count": 0,
    }
    if keep_errors:
        values["errors"] = job.errors
    ImportJob.objects.filter(pk=job.pk).update(**values)
    job.refresh_from_db()
    return job


def jobs_of(user) -> Iterable[ImportJob]:
    return ImportJob.objects.filter(user=user).order_by("-created_at", "-id")


def job_delete_files(job: ImportJob) -> None:
    Path(job.stored_path).unlink(missing_ok=True)
    failed_rows_path(job).unlink(missing_ok=True)


def job_queue_check(*, job: ImportJob) -> ImportJob:
    """Queue the dry run (a job: large files take a while); the page shows its progress."""
    job.status = ImportJob.Status.CHECKING
    job.heartbeat_at = None
    job.processed = 0
    job.save(update_fields=["status", "heartbeat_at", "processed"])
    progress_set(job.pk, phase="check", processed=0, total=job.total, beat=False)
    from crm.imports.tasks import import_check

    transaction.on_commit(lambda: import_check(job.pk))
    return job


# ---------------------------------------------------------------- the template


def template_workbook(*, user, target: ImportTarget) -> bytes:
    """An .xlsx with one column per field (required ones marked *), a comment on each header
    with its help, and a second sheet 填写说明 listing every field."""
    import io

    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    fields = target.fields(user)
    book = Workbook()
    sheet = book.active
    sheet.title = str(target.label)[:31]
    required_fill = PatternFill("solid", fgColor="FDE2E1")
    for column, field in enumerate(fields, start=1):
        header = f"{field.label}*" if field.required else str(field.label)
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = Font(bold=True, color="B42318" if field.required else "000000")
        if field.required:
            cell.fill = required_fill
        notes = [_("必填") if field.required else _("选填")]
        if field.help:
            notes.append(str(field.help))
        if field.example:
            notes.append(_("例如：%(example)s") % {"example": field.example})
        cell.comment = Comment("\n".join(notes), "CRM")
        sheet.column_dimensions[cell.column_letter].width = max(12, min(30, len(header) * 2 + 4))
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(_("填写说明"))
    guide.append([_("列名"), _("是否必填"), _("说明"), _("示例")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for field in fields:
        guide.append(
            [
                str(field.label),
                _("必填") if field.required else _("选填"),
                str(field.help or ""),
                field.example,
            ]
        )
    guide.append([])
    guide.append(
        [_("第一行是表头，从第二行起每行一条记录；带 * 的列必须填写。列的顺序可以调整，导入时可以重新对应。")]
    )
    for letter, width in (("A", 20), ("B", 10), ("C", 50), ("D", 30)):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
