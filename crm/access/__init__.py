"""The one access policy (DESIGN.md): which owned records a user sees, and what they may do.

Every list, detail, search, export, report, API endpoint and bulk action asks this module.
"""

from crm.access.policy import (  # noqa: F401
    PermissionRequiredError,
    can,
    get_visible_or_404,
    is_super_admin,
    permissions_of,
    visible,
    visible_departments,
    visible_users,
)
