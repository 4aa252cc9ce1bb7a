import pytest

from edge.errors import JobError
from edge.pipeline import naming


@pytest.mark.parametrize("text, slug", [
    ("Giấy khai sinh", "giay-khai-sinh"),
    ("Đăng ký thường trú", "dang-ky-thuong-tru"),
    ("Giấy chứng nhận quyền sử dụng đất", "giay-chung-nhan-quyen-su-dung-dat"),
    ("CCCD / hộ chiếu", "cccd-ho-chieu"),
    ("  ", "tai-lieu"),
    ("../../etc/passwd", "etc-passwd"),
])
def test_slug_is_ascii_and_safe(text, slug):
    assert naming.slug(text) == slug


@pytest.mark.parametrize("code", ["000.00.04.H40-230414-0002", " 000.00.19.h29-240229-1234 "])
def test_valid_dossier_codes(code):
    assert naming.check_dossier(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["000.00.04.H40-231314-0002", "000.00.04.H40-230414-02",
                                  "00.00.04.H40-230414-0002", "000.00.04.H40_230414_0002",
                                  "000.00.04.H40-230414-0002/../x", ""])
def test_invalid_dossier_codes_show_the_pattern(code):
    with pytest.raises(JobError) as e:
        naming.check_dossier(code)
    assert "NNN.NN.NN.XNN-YYMMDD-NNNN" in e.value.message
    assert "Mẫu đúng" in e.value.vi


def test_template_checks():
    naming.check_template("{ticket}_{doc}.pdf")
    for bad in ("{ref}.txt", "{nope}.pdf", "a/{ref}.pdf", "{ref} {doc}.pdf"):
        with pytest.raises(ValueError):
            naming.check_template(bad)


def test_suffixes():
    assert naming.with_suffix("a_01_x.pdf", 1) == "a_01_x.pdf"
    assert naming.with_suffix("a_01_x.pdf", 3) == "a_01_x-3.pdf"
