"""Export pages (SYS-3): start an export from a list, follow its progress, download it, and the
user's own exports. Thin: the checks and the writing live in crm.exports.services."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from crm.access.policy import PermissionRequiredError
from crm.core.mixins import client_ip
from crm.core.spreadsheets import CSV_TYPE, XLSX_TYPE
from crm.exports import registry, selectors, services
from crm.exports.models import ExportJob

PAGE_SIZE = 20


def _value(request, key: str, default: str = "") -> str:
    return request.POST.get(key) or request.GET.get(key) or default


def list_url(list_key: str, params: str = "") -> str:
    spec = registry.get(list_key)
    if spec is None:
        return reverse("exports:list")
    try:
        url = reverse(spec.url_name)
    except NoReverseMatch:
        return reverse("exports:list")
    return f"{url}?{params}" if params else url


def _back(request, list_key: str, params: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(list_url(list_key, params))


def download_response(job: ExportJob):
    path = services.file_path(job)
    if path is None:
        raise Http404
    content_type = CSV_TYPE if job.format == ExportJob.Format.CSV else XLSX_TYPE
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type)


class ExportCreateView(LoginRequiredMixin, View):
    """POST from a list's 导出 menu or its bulk bar: list, format, scope (all / selected), columns
    (visible / all), params (the list's query string) and ids (the ticked rows). A small export
    answers the file; a large one opens its progress page."""

    def post(self, request):
        list_key = _value(request, "list")
        params = _value(request, "params")
        scope = _value(request, "scope", ExportJob.Scope.ALL)
        ids = request.POST.getlist("ids") if scope == ExportJob.Scope.SELECTED else []
        try:
            job = services.export_create(
                actor=request.user,
                list_key=list_key,
                format=_value(request, "format", ExportJob.Format.XLSX),
                scope=scope,
                params=params,
                ids=ids,
                columns=_value(request, "columns", ExportJob.ColumnsMode.VISIBLE),
                ip=client_ip(request),
            )
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return _back(request, list_key, params if isinstance(params, str) else "")
        if job.status == ExportJob.Status.DONE:
            return download_response(job)
        if job.status == ExportJob.Status.FAILED:
            messages.error(request, job.error or _("导出失败。"))
            return redirect("exports:detail", job.pk)
        messages.info(request, _("导出的记录较多，已转入后台处理；完成后会在消息中心通知您。"))
        return redirect("exports:detail", job.pk)


class ExportJobListView(LoginRequiredMixin, View):
    """我的导出: the user's own exports, newest first."""

    def get(self, request):
        page = Paginator(selectors.jobs_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
        for job in page.object_list:
            spec = registry.get(job.list_key)
            job.list_label = spec.label if spec else job.list_key
        return render(request, "exports/list.html", {"page": page, "keep_days": services.KEEP_DAYS})


class ExportJobDetailView(LoginRequiredMixin, View):
    """The progress page; htmx re-fetches the progress card every second until the job ends."""

    def get(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, job_id=pk)
        spec = registry.get(job.list_key)
        context = {
            "job": job,
            "list_label": spec.label if spec else job.list_key,
            "list_url": list_url(job.list_key),
            "has_file": services.file_path(job) is not None,
        }
        if request.headers.get("HX-Request") == "true":
            return render(request, "exports/detail.html#progress", context)
        return render(request, "exports/detail.html", context)


class ExportDownloadView(LoginRequiredMixin, View):
    """The file, for the job's owner only (404 for anyone else, and once the file has expired)."""

    def get(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, job_id=pk)
        return download_response(job)
