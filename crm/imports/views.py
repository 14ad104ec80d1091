"""Import pages (SYS-3): choose → template → upload → mapping → dry run → run → result."""

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.core.mixins import PermissionMixin
from crm.imports import services
from crm.imports.models import ImportJob
from crm.imports.targets.base import Dedupe

ERRORS_PER_PAGE = 50


class ImportHomeView(PermissionMixin, View):
    """What the user may import, and their recent imports."""

    def get(self, request):
        targets = services.targets_for(request.user)
        if not targets:
            raise services.PermissionDenied
        jobs = list(services.jobs_of(request.user)[:10])
        return render(
            request,
            "imports/home.html",
            {"targets": targets, "jobs": [(job, services.job_state(job)) for job in jobs]},
        )


class JobListView(PermissionMixin, View):
    """我的导入: every import of the user, with its state."""

    def get(self, request):
        page = Paginator(services.jobs_of(request.user), 20).get_page(request.GET.get("page"))
        return render(
            request,
            "imports/jobs.html",
            {"page": page, "jobs": [(job, services.job_state(job)) for job in page.object_list]},
        )


class UploadView(PermissionMixin, View):
    def get(self, request, target):
        target = services.target_for(request.user, target)
        return render(request, "imports/upload.html", self._context(request, target))

    def post(self, request, target):
        target = services.target_for(request.user, target)
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要上传的文件。")
        else:
            try:
                job = services.job_create(user=request.user, target_key=target.key, upload=upload)
            except ValidationError as exc:
                error = "；".join(exc.messages)
            else:
                return redirect("imports:job", job.pk)
        return render(request, "imports/upload.html", self._context(request, target, error), status=400)

    def _context(self, request, target, error=""):
        return {
            "target": target,
            "fields": target.fields(request.user),
            "error": error,
            "max_mb": services.max_bytes() // (1024 * 1024),
        }


class TemplateView(PermissionMixin, View):
    def get(self, request, target):
        target = services.target_for(request.user, target)
        content = services.template_workbook(user=request.user, target=target)
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        name = _("%(label)s导入模板.xlsx") % {"label": target.label}
        from urllib.parse import quote

        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response


def _mapping_context(request, job, target, mapping=None, error=""):
    fields = target.fields(request.user)
    mapping = job.mapping if mapping is None else mapping
    modes = target.allowed_dedupe_modes(request.user)
    columns = []
    for index, header in enumerate(job.headers):
        columns.append({"index": index, "header": header, "key": mapping.get(str(index), "")})
    return {
        "job": job,
        "target": target,
        "fields": fields,
        "columns": columns,
        "modes": [(mode, Dedupe.LABELS[mode]) for mode in modes],
        "error": error,
        "unmatched": sum(1 for c in columns if not c["key"]),
    }


class JobView(PermissionMixin, View):
    """One page per job; what it shows follows the job's state."""

    def get(self, request, pk):
        job = services.job_get_for_user(user=request.user, job_id=pk)
        target = services.target_for(request.user, job.target)
        state = services.job_state(job)
        if (
            state == ImportJob.Status.UPLOADED
            or request.GET.get("step") == "mapping"
            and state
            in (
                ImportJob.Status.CHECKED,
                ImportJob.Status.FAILED,
            )
            and not job.started_at
        ):
            return render(request, "imports/mapping.html", _mapping_context(request, job, target))
        if state in (ImportJob.Status.CHECKING, ImportJob.Status.RUNNING):
            return render(
                request,
                "imports/progress.html",
                {"job": job, "target": target, "progress": services.progress_of(job)},
            )
        page = Paginator(job.errors or [], ERRORS_PER_PAGE).get_page(request.GET.get("page"))
        return render(
            request,
            "imports/result.html",
            {
                "job": job,
                "target": target,
                "state": state,
                "interrupted": state == ImportJob.Status.FAILED and job.status == ImportJob.Status.RUNNING,
                "check_interrupted": state == ImportJob.Status.FAILED
                and job.status == ImportJob.Status.CHECKING,
                "errors_page": page,
                "has_failed_file": services.failed_rows_path(job).exists() and job.failed_count > 0,
                "dedupe_label": Dedupe.LABELS.get(job.dedupe, job.dedupe),
            },
        )


class MappingView(PermissionMixin, View):
    def post(self, request, pk):
        job = services.job_get_for_user(user=request.user, job_id=pk)
        target = services.target_for(request.user, job.target)
        mapping = {str(i): request.POST.get(f"col_{i}", "") for i in range(len(job.headers))}
        try:
            services.job_configure(
                job=job, user=request.user, mapping=mapping, dedupe=request.POST.get("dedupe", "")
            )
        except ValidationError as exc:
            context = _mapping_context(request, job, target, mapping, "；".join(exc.messages))
            return render(request, "imports/mapping.html", context, status=400)
        services.job_queue_check(job=job)
        return redirect("imports:job", job.pk)


class StartView(PermissionMixin, View):
    def post(self, request, pk):
        job = services.job_get_for_user(user=request.user, job_id=pk)
        try:
            services.job_start(job=job, user=request.user, only_valid=request.POST.get("only_valid") == "1")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect("imports:job", job.pk)


class ProgressView(PermissionMixin, View):
    """The htmx-polled progress bar; when the job has finished, the page reloads."""

    def get(self, request, pk):
        job = services.job_get_for_user(user=request.user, job_id=pk)
        state = services.job_state(job)
        if state not in (ImportJob.Status.CHECKING, ImportJob.Status.RUNNING):
            response = HttpResponse("")
            response["HX-Redirect"] = reverse("imports:job", args=[job.pk])
            return response
        return render(
            request, "imports/progress.html#bar", {"job": job, "progress": services.progress_of(job)}
        )


class FailedRowsView(PermissionMixin, View):
    def get(self, request, pk):
        job = services.job_get_for_user(user=request.user, job_id=pk)
        path = services.failed_rows_path(job)
        if not path.exists():
            raise Http404
        stem = Path(job.filename).stem
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=_("%(name)s_失败行.xlsx") % {"name": stem},
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
