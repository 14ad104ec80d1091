"""The user picker behind the transfer and share selectors: colleagues load as the user types."""

from crm.accounts.tests.factories import UserFactory


def test_picker_finds_active_colleagues_by_name_or_username(client, users, org):
    UserFactory(username="zhenshisan", name="测试甄十三", department=org["east"], roles=["sales"])
    UserFactory(username="zhenold", name="测试甄旧人", department=org["east"], is_active=False)
    client.force_login(users["sales1"])

    by_name = client.get("/org/users/pick/", {"q": "测试甄"}).json()
    assert by_name == [{"value": by_name[0]["value"], "text": "测试甄十三（华东销售部）"}]
    assert [o["text"] for o in client.get("/org/users/pick/", {"q": "zhensh"}).json()] == [
        "测试甄十三（华东销售部）"
    ]
    assert client.get("/org/users/pick/", {"q": "nobody-like-this"}).json() == []


def test_picker_answers_at_most_twenty_and_needs_a_login(client, users, org):
    for number in range(25):
        UserFactory(username=f"picker{number}", department=org["south"])
    assert client.get("/org/users/pick/", {"q": "picker"}).status_code == 302
    client.force_login(users["sales1"])
    assert len(client.get("/org/users/pick/", {"q": "picker"}).json()) == 20


def test_customer_list_no_longer_carries_every_user(client, users, org):
    from crm.customers.models import Customer

    Customer.objects.create(name="深圳甲科技有限公司", code="PK1", owner=users["sales1"])
    UserFactory(username="faraway", name="远方同事", department=org["finance"])
    client.force_login(users["sales1"])
    page = client.get("/customers/").content.decode()
    assert 'data-user-picker="/org/users/pick/"' in page
    assert "远方同事" not in page


def test_picker_can_offer_only_colleagues_in_the_viewers_scope(client, users, org):
    """Lead and opportunity transfers accept only users in the actor's data scope."""
    client.force_login(users["manager"])  # 本部门及下级: 销售中心 and below
    everyone = {o["value"] for o in client.get("/org/users/pick/", {"q": "", "scope": "all"}).json()}
    in_scope = {o["value"] for o in client.get("/org/users/pick/", {"scope": "visible"}).json()}
    assert users["sales1"].pk in in_scope and users["sales2"].pk in in_scope
    assert users["finance"].pk not in in_scope and users["finance"].pk in everyone
