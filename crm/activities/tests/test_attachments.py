"""Attachments: size and type limits (extension and first bytes), kept name, visibility-checked download."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.activities import services
from crm.activities.models import FollowUp, FollowUpAttachment

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_pdf_is_stored_under_a_random_name_and_keeps_its_original_name(users, make_followup, settings):
    followup = make_followup()
    attachment = services.attachment_add(
        actor=users["sales1"], followup=followup, upload=upload("报价单.pdf", PDF)
    )
    assert attachment.original_name == "报价单.pdf"
    assert attachment.size == len(PDF)
    assert "报价单" not in attachment.file.name and attachment.file.name.endswith(".pdf")
    assert (settings.MEDIA_ROOT / attachment.file.name).read_bytes() == PDF


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("病毒.exe", b"MZ\x90\x00", "不支持的文件类型"),
        ("假装.pdf", b"MZ\x90\x00 not a pdf", "内容与扩展名不符"),
        ("图片.png", PDF, "内容与扩展名不符"),
        ("说明.txt", b"abc\x00def", "内容与扩展名不符"),
        ("无扩展名", PDF, "不支持的文件类型"),
        ("空.pdf", b"", "空文件"),
    ],
)
def test_disallowed_or_disguised_files_are_refused(users, make_followup, name, data, message):
    followup = make_followup()
    with pytest.raises(ValidationError, match=message):
        services.attachment_add(actor=users["sales1"], followup=followup, upload=upload(name, data))
    assert not FollowUpAttachment.objects.exists()


def test_file_over_10_mb_is_refused_and_the_followup_is_not_saved_either(users, customer, phone, settings):
    big = upload("大文件.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError, match="超过 10 MB"):
        services.followup_create(
            actor=users["sales1"], customer_id=customer.pk, type=phone, content="附报价", files=[big]
        )
    assert not FollowUp.objects.exists()
    assert not FollowUpAttachment.objects.exists()
    assert not list(settings.MEDIA_ROOT.rglob("*.pdf"))  # nothing written to disk either


def test_followup_created_with_files(users, customer, phone):
    followup = services.followup_create(
        actor=users["sales1"],
        customer_id=customer.pk,
        type=phone,
        content="附报价和现场照片",
        files=[upload("报价.pdf", PDF), upload("现场.png", PNG)],
    )
    assert sorted(followup.attachments.values_list("original_name", flat=True)) == ["报价.pdf", "现场.png"]


def test_download_checks_that_the_followup_is_visible(client, users, make_followup):
    followup = make_followup()
    attachment = services.attachment_add(
        actor=users["sales1"], followup=followup, upload=upload("合同.pdf", PDF)
    )
    url = f"/activities/attachments/{attachment.pk}/"

    client.force_login(users["sales2"])
    assert client.get(url).status_code == 404
    client.force_login(users["manager"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"


def test_upload_page_shows_the_error_and_keeps_nothing(client, users, make_followup):
    followup = make_followup()
    client.force_login(users["sales1"])
    response = client.post(
        f"/activities/{followup.pk}/attachments/", {"file": upload("run.sh", b"#!/bin/sh\nrm -rf /")}
    )
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()
    assert not FollowUpAttachment.objects.exists()


def test_form_uploads_several_files_with_the_followup(client, users, customer, phone):
    from django.utils import timezone

    client.force_login(users["sales1"])
    response = client.post(
        f"/activities/new/?customer={customer.pk}",
        {
            "type": phone.pk,
            "content": "附件见附",
            "followed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "file": [upload("方案.pdf", PDF), upload("截图.png", PNG)],
        },
    )
    assert response.status_code == 302
    followup = FollowUp.objects.get()
    assert sorted(a.original_name for a in followup.attachments.all()) == ["截图.png", "方案.pdf"]
    page = client.get(response["Location"]).content.decode()
    assert "方案.pdf" in page and "截图.png" in page


def test_form_with_a_disallowed_file_saves_nothing(client, users, customer, phone):
    from django.utils import timezone

    client.force_login(users["sales1"])
    response = client.post(
        f"/activities/new/?customer={customer.pk}",
        {
            "type": phone.pk,
            "content": "附件见附",
            "followed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "file": [upload("宏.xlsm", b"PK\x03\x04")],
        },
    )
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()
    assert not FollowUp.objects.exists()
