"""The catalogue of procedures and the documents each usually needs, for cover sheets.

Staff pick "Đăng ký khai sinh" and the kit prints one cover sheet per document of its list. The
built-in catalogue covers the procedures the commune plans name (birth registration, certified
copies and signatures, household businesses); `[[procedures]]` in the config replaces it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MAX_NAME = 120  # as a document type (edge/pipeline/actions.py MAX_DOC_LEN)
MAX_DOCUMENTS = 30


@dataclass(frozen=True)
class Procedure:
    """One procedure (`name`) and its usual documents, in the order they are handed in."""

    name: str
    documents: list[str]

    def problems(self) -> Iterator[tuple[str, str]]:
        """(key, what is wrong and how to fix it) for each bad setting."""
        if not 0 < len(self.name.strip()) <= MAX_NAME:
            yield "name", f"must be 1-{MAX_NAME} characters, e.g. \"Đăng ký khai sinh\""
        if not 0 < len(self.documents) <= MAX_DOCUMENTS:
            yield "documents", (f"list 1-{MAX_DOCUMENTS} document types, e.g. "
                                "[\"Tờ khai đăng ký khai sinh\", \"Giấy chứng sinh\"]")
        seen: set[str] = set()
        for i, doc in enumerate(self.documents):
            if not 0 < len(doc.strip()) <= MAX_NAME:
                yield f"documents[{i}]", f"must be 1-{MAX_NAME} characters"
            elif doc.strip().casefold() in seen:
                yield f"documents[{i}]", f"{doc!r} is listed twice; list each document once"
            seen.add(doc.strip().casefold())


DEFAULT = [
    Procedure("Đăng ký khai sinh", ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh",
                                    "CCCD của cha/mẹ", "Giấy chứng nhận kết hôn"]),
    Procedure("Đăng ký khai sinh liên thông (thường trú, BHYT)", [
        "Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "CCCD của cha/mẹ",
        "Tờ khai thay đổi thông tin cư trú", "Tờ khai tham gia BHYT"]),
    Procedure("Chứng thực bản sao từ bản chính", ["Bản chính", "Bản sao cần chứng thực"]),
    Procedure("Chứng thực chữ ký", ["Giấy tờ cần chứng thực chữ ký",
                                    "CCCD của người yêu cầu"]),
    Procedure("Đăng ký thành lập hộ kinh doanh", [
        "Giấy đề nghị đăng ký hộ kinh doanh", "CCCD của chủ hộ kinh doanh",
        "Biên bản họp thành viên hộ gia đình", "Hợp đồng thuê địa điểm kinh doanh"]),
]


def default() -> list[Procedure]:
    return list(DEFAULT)
