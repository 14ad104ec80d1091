"""POST /api/v1/exports/ and GET /api/v1/exports/{id}/ (+ /download/): own jobs only."""

import pytest
from rest_framework.test import APIClient

from crm.exports.models import ExportJob
from crm.exports.tests.conftest import content_of, csv_rows

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_small_export_answers_a_finished_job_with_a_download(users, make_customer):
    make_customer(name="接口客户甲")
    make_customer(name="接口客户乙", actor=users["sales2"])
    client = api(users["sales1"])
    response = client.post(
        "/api/v1/exports/", {"list": "customers", "format": "csv", "params": {"q": "接口"}}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done" and body["total"] == 1 and body["progress"] == 100
    assert body["download_url"].endswith(f"/api/v1/exports/{body['id']}/download/")
    detail = client.get(f"/api/v1/exports/{body['id']}/")
    assert detail.status_code == 200 and detail.json()["id"] == body["id"]
    download = client.get(f"/api/v1/exports/{body['id']}/download/")
    assert download.status_code == 200
    assert [r[0] for r in csv_rows(content_of(download))[1:]] == ["接口客户甲"]
    other = api(users["sales2"])
    assert other.get(f"/api/v1/exports/{body['id']}/").status_code == 404
    assert other.get(f"/api/v1/exports/{body['id']}/download/").status_code == 404
    assert other.get("/api/v1/exports/").json()["results"] == []


def test_large_export_is_queued_and_runs(users, make_customer, settings, django_capture_on_commit_callbacks):
    settings.EXPORT_SYNC_LIMIT = 1
    make_customer(name="一")
    make_customer(name="二")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(users["sales1"]).post(
            "/api/v1/exports/", {"list": "customers", "params": "q=&sort=name"}, format="json"
        )
    assert response.status_code == 201 and response.json()["status"] == "queued"
    job = ExportJob.objects.get()
    assert job.status == "done" and job.total == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"list": "nope"}, "list"),
        ({"list": "customers", "format": "pdf"}, "format"),
        ({"list": "customers", "scope": "selected"}, "detail"),
        ({"list": "customers", "params": {"f": "password", "op": "is", "v": "1"}}, "detail"),
        ({"list": "customers", "params": {"q": {"nested": 1}}}, "detail"),
        ({"list": "customers", "ids": ["x"]}, "ids"),
        ({"list": "customers", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_with_a_message_and_creates_nothing(users, data, field):
    response = api(users["sales1"]).post("/api/v1/exports/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ExportJob.objects.exists()


def test_without_the_export_permission_it_is_403(users):
    response = api(users["service"]).post("/api/v1/exports/", {"list": "customers"}, format="json")
    assert response.status_code == 403
    assert not ExportJob.objects.exists()


def test_selected_ids_outside_scope_are_ignored(users, make_customer):
    mine = make_customer(name="我的")
    other = make_customer(name="别人的", actor=users["sales2"])
    client = api(users["sales1"])
    response = client.post(
        "/api/v1/exports/",
        {"list": "customers", "format": "csv", "scope": "selected", "ids": [mine.pk, other.pk]},
        format="json",
    )
    assert response.status_code == 201 and response.json()["total"] == 1
    rows = csv_rows(content_of(client.get(response.json()["download_url"])))
    assert [r[0] for r in rows[1:]] == ["我的"]
