"""The API tokens page in the profile: list, create (secret shown once), revoke."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm.api.models import APIToken, hash_secret
from crm.api.services import token_create
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

URL = "/account/profile/tokens/"


@pytest.fixture
def client(users):
    client = Client()
    client.force_login(users["sales1"])
    return client


def test_profile_links_to_the_tokens_page(client):
    page = client.get("/account/profile/").content.decode()
    assert URL in page and "API 令牌" in page


def test_page_lists_only_my_tokens_with_their_status(client, users):
    token_create(user=users["sales1"], name="ERP 同步")
    revoked, _ = token_create(user=users["sales1"], name="旧脚本")
    APIToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    token_create(user=users["sales2"], name="别人的令牌")

    response = client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "ERP 同步" in html and "旧脚本" in html and "别人的令牌" not in html
    assert "已撤销" in html and "有效" in html and "从未使用" in html
    assert html.count('data-testid="token-revoke"') == 1  # only the active one can be revoked


def test_creating_shows_the_secret_once_and_stores_its_hash(client, users):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client.post(URL, {"name": "报表工具", "expires_on": tomorrow})

    html = response.content.decode()
    assert response.status_code == 200
    secret = re.search(r'data-testid="token-secret"', html) and re.search(
        r'id="new-token-secret" class="[^"]*" value="([^"]+)"', html
    ).group(1)
    assert "只显示这一次" in html and 'data-testid="token-copy"' in html
    token = APIToken.objects.get(user=users["sales1"], name="报表工具")
    assert token.key_hash == hash_secret(secret)
    assert timezone.localtime(token.expires_at).date() == timezone.localdate() + timedelta(days=2)
    assert OperationLog.objects.filter(action="api_token.created", actor=users["sales1"]).exists()

    again = client.get(URL).content.decode()
    assert secret not in again and token.prefix in again


@pytest.mark.parametrize(
    ("data", "message"),
    [({"name": ""}, "该字段是必填项"), ({"name": "x", "expires_on": "2000-01-01"}, "有效期不能早于今天。")],
)
def test_bad_input_shows_a_message_and_creates_nothing(client, data, message):
    response = client.post(URL, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not APIToken.objects.exists()


def test_revoke_my_token_but_not_someone_elses(client, users):
    mine, _ = token_create(user=users["sales1"], name="我的")
    theirs, _ = token_create(user=users["sales2"], name="别人的")

    assert client.post(f"{URL}{theirs.pk}/revoke/").status_code == 404
    response = client.post(f"{URL}{mine.pk}/revoke/", follow=True)

    assert "已撤销" in response.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert client.get(f"{URL}{mine.pk}/revoke/").status_code == 405


def test_page_needs_a_login():
    response = Client().get(URL)
    assert response.status_code == 302 and "/login/" in response.url
