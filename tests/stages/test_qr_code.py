"""Stages 3-5: the QR code a phone scans, and the key for typing in by hand."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from workbook import pages, qr

pytestmark = pytest.mark.stages(3, 4, 5)

URI_PATTERN = re.compile(
    r"otpauth://totp/Flask%202FA%20Workbook:(?P<account>[^?]+)"
    r"\?secret=(?P<secret>[A-Z2-7]{32})&issuer=Flask%202FA%20Workbook"
)


def test_exactly_one_inline_png(client):
    images = pages.parse(client.get("/").data).data_uri_images()
    assert len(images) == 1


def test_qr_code_decodes_to_the_provisioning_uri(client):
    image = pages.parse(client.get("/").data).data_uri_images()[0]
    uri = qr.decode_data_uri(image)
    assert URI_PATTERN.fullmatch(uri), uri
    query = parse_qs(urlsplit(uri).query)
    assert set(query) == {"secret", "issuer"}, "digits, period and algorithm are left at the defaults apps honour"


def test_qr_image_has_alt_text(client):
    page = pages.parse(client.get("/").data)
    (image,) = [img for img in page.images if img.get("src", "").startswith("data:image/png")]
    assert image.get("alt", "").strip(), "the QR code needs alt text for screen readers"


def test_same_qr_code_on_every_visit(client):
    first = qr.decode_data_uri(pages.parse(client.get("/").data).data_uri_images()[0])
    second = qr.decode_data_uri(pages.parse(client.get("/").data).data_uri_images()[0])
    assert first == second


@pytest.mark.stages(4, 5)
def test_manual_key_matches_the_qr_code(client):
    page = pages.parse(client.get("/").data)
    secret = URI_PATTERN.fullmatch(qr.decode_data_uri(page.data_uri_images()[0]))["secret"]
    assert secret in page.compact_text(), "show the same secret as a key to type in"
    assert re.search(r"\b" + r"\s".join(secret[i:i + 4] for i in range(0, 32, 4)) + r"\b", page.text), (
        "group the key in fours, as apps do"
    )
