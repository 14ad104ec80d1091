from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.messaging import services
from crm.messaging.forms import ReminderForm
from crm.messaging.models import Notification, Reminder


@login_required
def notification_list(request):
    show = request.GET.get("show", "all")
    notifications = Notification.objects.filter(recipient=request.user)
    if show == "unread":
        notifications = notifications.filter(is_read=False)
    page = Paginator(notifications, 20).get_page(request.GET.get("page"))
    return render(request, "messaging/list.html", {"page": page, "show": show})


@login_required
def notification_badge(request):
    """The bell in the top bar; htmx polls it."""
    unread = Notification.objects.filter(recipient=request.user, is_read=False)
    return render(
        request,
        "messaging/bell.html",
        {
            "unread_count": unread.count(),
            "latest": list(unread[:5]),
        },
    )


@login_required
@require_POST
def notification_open(request, pk):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.url)
    return redirect("messaging:list")


@login_required
@require_POST
def notification_mark_all_read(request):
    count = services.notifications_mark_read(user=request.user)
    messages.success(
        request,
        ngettext("已将 %(count)d 条消息标为已读。", "已将 %(count)d 条消息标为已读。", count)
        % {"count": count},
    )
    return redirect("messaging:list")


@login_required
def reminder_list(request):
    form = ReminderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.reminder_create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("提醒已添加。"))
        return redirect("messaging:reminders")
    reminders = Reminder.objects.filter(owner=request.user).order_by("delivered_at", "remind_at")
    page = Paginator(reminders, 20).get_page(request.GET.get("page"))
    return render(
        request, "messaging/reminders.html", {"form": form, "page": page}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def reminder_delete(request, pk):
    get_object_or_404(Reminder, pk=pk, owner=request.user).delete()
    messages.success(request, _("提醒已删除。"))
    return redirect("messaging:reminders")
