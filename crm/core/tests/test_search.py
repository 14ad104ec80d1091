def test_search_finds_users_and_departments_in_scope(client, users, org):
    client.force_login(users["manager"])
    page = client.get("/search/", {"q": "sales"}).content.decode()
    assert "sales1" in page and "sales2" in page
    page = client.get("/search/", {"q": "华南"}).content.decode()
    assert "华南销售部" in page
    # finance is outside the manager's department tree
    assert "finance@example.com" not in client.get("/search/", {"q": "finance"}).content.decode()


def test_search_without_permission_shows_nothing(client, users):
    client.force_login(users["sales1"])  # 销售 has no users.view
    page = client.get("/search/", {"q": "sales"}).content.decode()
    assert "没有找到匹配的结果" in page


def test_search_escapes_the_query(client, users):
    client.force_login(users["admin"])
    page = client.get("/search/", {"q": "<b>x</b>"}).content.decode()
    assert "<b>x</b>" not in page
