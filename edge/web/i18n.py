"""The UI's words in Vietnamese (default) and English; the language is kept in the session."""

from __future__ import annotations

from flask import current_app, session

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Dịch vụ công lưu động", "Mobile public services"),
    "login": ("Đăng nhập", "Log in"), "logout": ("Đăng xuất", "Log out"),
    "name": ("Tên đăng nhập", "User name"), "password": ("Mật khẩu hoặc mã PIN", "Password or PIN"),
    "scan": ("Quét hồ sơ", "Scan"), "devices": ("Thiết bị", "Devices"),
    "receipts": ("In phiếu", "Slips"), "preset": ("Loại giấy tờ (bấm để chọn)",
                                                   "Document preset (press one)"),
    "dossier": ("Mã hồ sơ (để trống: hệ thống cấp số phiếu)",
                "Dossier code (empty: a ticket is generated)"),
    "doc": ("Tên giấy tờ", "Document type"), "start": ("Quét", "Scan"),
    "pages": ("Số trang", "Pages"), "resume": ("Tiếp tục", "Resume"),
    "finish": ("Hoàn tất", "Finish"), "restore": ("Khôi phục", "Restore"),
    "download": ("Tải PDF", "Download PDF"), "uploaded": ("Đã nộp lên Cổng", "Mark uploaded"),
    "rename": ("Đổi tên theo mã hồ sơ", "Rename to dossier code"),
    "dossiers": ("Hồ sơ đã quét", "Scanned dossiers"), "state": ("Trạng thái", "State"),
    "blank": ("Trang trắng đã bỏ", "Blank page dropped"),
    "on_battery": ("Đang chạy bằng pin bộ lưu điện — mất điện lưới!",
                   "Running on UPS battery — mains power lost!"),
    "no_service": ("Dịch vụ quét (edge run) không chạy hoặc không cập nhật trạng thái",
                   "The scanning service (edge run) is not running or not reporting"),
    "history": ("Lịch sử (6 giờ qua)", "History (last 6 hours)"),
    "template": ("Mẫu phiếu", "Slip template"), "preview": ("Xem trước", "Preview"),
    "print": ("In phiếu", "Print"), "battery": ("Pin", "Battery"),
    "signal": ("Sóng 4G", "4G signal"), "temp": ("Nhiệt độ CPU", "CPU temperature"),
    "lang": ("English", "Tiếng Việt"),
    "open_jobs": ("Hồ sơ đang quét hoặc tạm dừng (bấm để mở)",
                  "Jobs scanning or paused (press to open)"), "scanner": ("Máy quét", "Scanner"),
}


def lang() -> str:
    return str(session.get("lang") or current_app.config["EDGE_LANG"])


def t(key: str) -> str:
    vi, en = WORDS.get(key, (key, key))
    return vi if lang() == "vi" else en
