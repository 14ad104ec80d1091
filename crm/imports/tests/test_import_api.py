"""The import API: upload answers the dry run, run starts the job, others' jobs are 404."""

import json

import pytest
from rest_framework.test import APIClient

from crm.customers.models import Customer
from crm.imports.tests.conftest import upload


@pytest.fixture
def api(users):
    def as_user(name):
        client = APIClient()
        client.force_authenticate(users[name])
        return client

    return as_user


@pytest.mark.django_db
def test_upload_answers_the_dry_run_and_run_imports(api, django_capture_on_commit_callbacks):
    client = api("manager")
    rows = [["公司", "手机"], ["甲公司", "13800138000"], ["乙公司", "1"]]
    response = client.post(
        "/api/v1/imports/",
        {
            "file": upload(rows),
            "target": "customers",
            "dedupe": "skip",
            "mapping": json.dumps({"公司": "name", "1": "mobile"}),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "checked" and body["to_create"] == 1 and body["failed_count"] == 1
    assert body["errors"] == [{"row": 3, "column": "手机", "message": "请输入有效的 11 位手机号码。"}]
    assert not Customer.objects.exists()
    refused = client.post(f"/api/v1/imports/{body['id']}/run/", {}, format="json")
    assert refused.status_code == 400 and "只导入正确的行" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/imports/{body['id']}/run/", {"only_valid": True}, format="json")
    assert started.status_code == 202
    done = client.get(f"/api/v1/imports/{body['id']}/").json()
    assert done["status"] == "done" and done["created_count"] == 1
    assert list(Customer.objects.values_list("name", flat=True)) == ["甲公司"]
    assert api("sales1").get(f"/api/v1/imports/{body['id']}/").status_code == 404
    assert api("sales1").post(f"/api/v1/imports/{body['id']}/run/", {}, format="json").status_code == 404


@pytest.mark.django_db
def test_api_refuses_without_permission_and_bad_input(api):
    response = api("finance").post(
        "/api/v1/imports/",
        {"file": upload([["客户名称"], ["甲"]]), "target": "customers"},
        format="multipart",
    )
    assert response.status_code == 403
    response = api("manager").post(
        "/api/v1/imports/", {"file": upload([["客户名称"], ["甲"]]), "target": "nothing"}, format="multipart"
    )
    assert response.status_code == 400
    response = api("manager").post(
        "/api/v1/imports/",
        {
            "file": upload([["客户名称"], ["甲"]]),
            "target": "customers",
            "mapping": json.dumps({"不存在": "name"}),
        },
        format="multipart",
    )
    assert response.status_code == 400 and "不存在" in response.content.decode()
    assert not Customer.objects.exists()
