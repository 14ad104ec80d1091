def test_home_renders_for_admin(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 200
    assert "首页" in response.content.decode()
