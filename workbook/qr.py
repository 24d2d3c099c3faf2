"""Decode QR codes with a real decoder (zxing-cpp), as a phone's camera would.

pypng reads the PNG into rows of pixels and zxing-cpp decodes them from a
plain memoryview, so no numpy or Pillow is needed.
"""
import base64
import binascii

import png
import zxingcpp

DATA_URI_PREFIX = "data:image/png;base64,"


class QRDecodeError(ValueError):
    """The image holds no readable QR code; the message says why."""


def png_from_data_uri(data_uri: str) -> bytes:
    """The PNG bytes inside ``data:image/png;base64,...``."""
    if not data_uri.startswith(DATA_URI_PREFIX):
        raise QRDecodeError(f"Expected a src starting with {DATA_URI_PREFIX!r}, got {data_uri[:40]!r}.")
    try:
        return base64.b64decode(data_uri[len(DATA_URI_PREFIX):], validate=True)
    except binascii.Error as error:
        raise QRDecodeError(f"The data URI is not valid base64: {error}.") from error


def _grey_pixels(png_bytes):
    """(width, height, one byte per pixel) of a PNG; a QR code is black and white, so one channel is enough.

    pypng unpacks the rows; bytes.translate stretches 1-, 2- and 4-bit greys to 0-255 at C speed
    (pypng's own asRGB8 does it pixel by pixel in Python, ten times slower: the behaviour tests
    read hundreds of QR codes). Other images (16-bit, with alpha) take the slow road: pypng makes
    them 8-bit RGBA, and each pixel is laid on white, as a browser shows it.
    """
    width, height, rows, info = png.Reader(bytes=png_bytes).asDirect()  # palettes come out as RGB
    planes, depth = info["planes"], info["bitdepth"]
    if planes in (1, 3) and depth <= 8:
        top = (1 << depth) - 1
        stretch = bytes(min(255, value * 255 // top) for value in range(256))
        grey = bytearray()
        for row in rows:
            grey += bytes(row)[::planes].translate(stretch)
        return width, height, grey
    width, height, rows, _info = png.Reader(bytes=png_bytes).asRGBA8()
    grey = bytearray()
    for row in rows:
        grey += bytes((red * alpha + 255 * (255 - alpha)) // 255 for red, alpha in zip(row[::4], row[3::4], strict=True))
    return width, height, grey


def decode_png(png_bytes: bytes) -> str:
    """The text of the one QR code in a PNG image."""
    try:
        width, height, grey = _grey_pixels(png_bytes)
    except png.Error as error:
        raise QRDecodeError(f"Not a readable PNG image: {error}.") from error
    found = zxingcpp.read_barcodes(memoryview(bytes(grey)).cast("B", (height, width)),
                                   formats=zxingcpp.BarcodeFormat.QRCode)
    if not found:
        raise QRDecodeError("The image contains no QR code that a phone could read.")
    if len(found) > 1:
        raise QRDecodeError(f"The image contains {len(found)} QR codes; show exactly one.")
    return found[0].text


def decode_data_uri(data_uri: str) -> str:
    """The text of the QR code in an ``<img src="data:image/png;base64,...">``."""
    return decode_png(png_from_data_uri(data_uri))
