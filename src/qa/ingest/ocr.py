"""OCR of page images with Tesseract (through pytesseract), for PDF pages without a text layer."""

from __future__ import annotations

import logging
import shutil
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

OCR_REMEDY = "install Tesseract to OCR them: apt-get install tesseract-ocr"
NO_TEXT_LAYER = "no text layer (a scanned page)"


@cache
def ocr_available() -> bool:
    """True when the `tesseract` program and pytesseract are both installed."""
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return True


def ocr_image(image: Image, *, language: str = "eng") -> str:
    """The text Tesseract reads in `image`, lines separated by newlines."""
    import pytesseract

    text: str = pytesseract.image_to_string(image, lang=language)
    logger.debug("OCR read %d characters", len(text))
    return text
