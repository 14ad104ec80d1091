"""Sent inside the deciding transaction when a request ends; sender is the kind key ("contract")."""

from django.dispatch import Signal

request_submitted = Signal()  # request
request_approved = Signal()  # request
request_rejected = Signal()  # request, comment
request_withdrawn = Signal()  # request
