from django import template

from crm.approvals import selectors

register = template.Library()


@register.simple_tag
def approval_status_for(document) -> dict:
    """The latest approval request of a document and its timeline, for approvals/_request_status.html."""
    approval = selectors.request_for_document(document) if document is not None else None
    return {"approval": approval, "timeline": selectors.request_timeline(approval) if approval else []}
