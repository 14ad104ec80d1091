"""Export selected leads (LEAD-1): a real .xlsx with only what the user may see, formulas
neutralised, the export logged; refused without leads.export."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.audit.models import OperationLog
from crm.core.spreadsheets import safe_cell

pytestmark = pytest.mark.django_db


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content)).active


def test_export_selected_leads_the_user_may_see(client, users, make_lead):
    mine = make_lead(company='=HYPERLINK("http://evil")', contact_name="王伟", mobile="13800138000")
    other = make_lead(actor=users["sales2"], company="别人的线索")
    client.force_login(users["sales1"])
    assert 'data-testid="bulk-export"' in client.get(reverse("leads:list")).content.decode()
    response = client.post(reverse("leads:bulk"), {"action": "export", "ids": [mine.pk, other.pk]})
    assert response.status_code == 200
    rows = list(_sheet(response).iter_rows(values_only=True))
    assert rows[0][:3] == ("线索编号", "公司名称", "联系人姓名")
    assert len(rows) == 2  # sales2's lead is not in sales1's scope
    assert rows[1][0] == mine.code
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'  # shown as text, never evaluated
    assert rows[1][2] == "王伟"
    log = OperationLog.objects.get(action="lead.exported")
    assert log.actor == users["sales1"] and log.changes == {"count": [None, 1]}


def test_export_needs_the_permission(client, users, make_lead):
    from crm.accounts.models import Role

    lead = make_lead()
    role = Role.objects.create(
        code="no_export", name="不能导出", data_scope="all", permissions=["leads.view"]
    )
    users["norole"].roles.set([role])
    client.force_login(users["norole"])
    assert 'data-testid="bulk-export"' not in client.get(reverse("leads:list")).content.decode()
    response = client.post(reverse("leads:bulk"), {"action": "export", "ids": [lead.pk]})
    assert response.status_code == 403
    assert not OperationLog.objects.filter(action="lead.exported").exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("正常", "正常"),
        (None, ""),
        (5, 5),
    ],
)
def test_cells_that_would_run_as_formulas_are_neutralised(value, expected):
    assert safe_cell(value) == expected
