"""Checks on uploaded files: bounded size and count, an allow-list of types, content that matches its name."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from pledge.core.errors import ValidationFailed


class UploadLike(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = ...) -> bytes: ...
    def seek(self, offset: int, whence: int = ...) -> int: ...


# extension → content type. Binary formats must carry a matching signature; text must decode.
ALLOWED_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
}
TEXT_EXTENSIONS = {"txt", "log", "csv", "json"}
ZIP_BASED = {"zip", "docx", "xlsx", "pptx"}


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    size: int
    data: bytes


def clean_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]", "_", base).strip(" .")
    if len(base) > 150:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 150 - len(ext) - 1] + dot + ext) if dot else base[:150]
    return base or "file"


def check_upload(upload: UploadLike) -> CheckedUpload:
    """Validate one upload; raises ValidationFailed naming the file and what is wrong."""
    filename = clean_filename(upload.name or "file")
    limit = settings.MAX_UPLOAD_BYTES
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(
            _("%(name)s is larger than %(mb)d MB.") % {"name": filename, "mb": limit // (1024 * 1024)},
            fields={"attachments": _("File too large.")},
        )
    if not data:
        raise ValidationFailed(
            _("%(name)s is empty.") % {"name": filename}, fields={"attachments": _("Empty file.")}
        )
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    if ext not in ALLOWED_TYPES:
        raise ValidationFailed(
            _("%(name)s: this type of file is not accepted.") % {"name": filename},
            fields={"attachments": _("Accepted: %(types)s") % {"types": ", ".join(sorted(ALLOWED_TYPES))}},
        )
    if ext in TEXT_EXTENSIONS:
        ok = b"\x00" not in data
        if ok:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    data.decode("gb18030")
                except UnicodeDecodeError:
                    ok = False
    else:
        kind = filetype.guess(data)
        detected = kind.extension if kind else None
        ok = (
            detected == ext
            or (ext in ZIP_BASED and detected in ZIP_BASED)
            or (ext == "jpeg" and detected == "jpg")
        )
    if not ok:
        raise ValidationFailed(
            _("%(name)s does not contain what its name says.") % {"name": filename},
            fields={"attachments": _("Content does not match the file type.")},
        )
    return CheckedUpload(filename=filename, content_type=ALLOWED_TYPES[ext], size=len(data), data=data)


def check_uploads(uploads: Sequence[UploadLike]) -> list[CheckedUpload]:
    if len(uploads) > settings.MAX_ATTACHMENTS_PER_MESSAGE:
        raise ValidationFailed(
            _("At most %(n)d files at a time.") % {"n": settings.MAX_ATTACHMENTS_PER_MESSAGE},
            fields={"attachments": _("Too many files.")},
        )
    return [check_upload(upload) for upload in uploads]
