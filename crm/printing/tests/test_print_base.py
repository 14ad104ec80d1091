"""Every print page shares one base: @page A4 by default, a toolbar that never prints."""

from pathlib import Path

import pytest
from django.template.loader import get_template
from django.template.loader_tags import ExtendsNode

CSS = Path(__file__).resolve().parents[1] / "static/printing/print.css"


@pytest.mark.parametrize(
    "name",
    ["quotes/print.html", "contracts/print.html", "invoices/print.html", "printing/customer.html"],
)
def test_print_pages_extend_the_shared_base(name):
    first = get_template(name).template.nodelist[0]
    assert isinstance(first, ExtendsNode)
    assert first.parent_name.var == "printing/base_print.html"


def test_base_sets_a4_and_hides_the_toolbar_on_paper():
    source = Path(get_template("printing/base_print.html").origin.name).read_text()
    assert "@page { size: A4;" in source
    css = CSS.read_text()
    assert "@media print" in css and ".print-toolbar" in css.split("@media print", 1)[1]
