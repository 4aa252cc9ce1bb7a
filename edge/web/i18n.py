"""The UI's words in Vietnamese (default) and English; the language is kept in the session."""

from __future__ import annotations

import json

from flask import current_app, session

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Dịch vụ công lưu động", "Mobile public services"),
    "version": ("Phiên bản", "Version"),
    "update": ("Cập nhật phần mềm", "Software update"),
    "update_running": ("Phiên bản đang chạy:", "Running version:"),
    "update_kept": ("Các phiên bản có trên máy:", "Versions on this kit:"),
    "update_upload": ("Cài từ tệp (USB, máy tính)", "Install from a file (USB stick, laptop)"),
    "update_upload_help": ("Chọn tệp gói cập nhật do tỉnh hoặc xã gửi, tên dạng",
                           "Choose the update file from the province or commune, named"),
    "update_send": ("Gửi và cập nhật", "Send and update"),
    "update_choose": ("Chọn tệp…", "Choose a file…"),
    "update_none_chosen": ("Chưa chọn tệp nào", "No file chosen"),
    "update_fetch": ("Tải từ máy chủ của xã", "Fetch from the commune server"),
    "update_fetch_help": ("Cần có mạng. Bộ máy tự tải phiên bản mới nhất.",
                          "Needs internet. The kit fetches the newest version itself."),
    "update_fetch_button": ("Tải và cập nhật", "Fetch and update"),
    "update_asked": ("Đã nhận yêu cầu cập nhật. Bộ máy sẽ cập nhật khi không còn tài liệu nào "
                     "đang quét, rồi tự khởi động lại; tải lại trang này sau vài phút để xem kết "
                     "quả.", "Update requested. The kit updates once no document is being "
                     "scanned, then restarts; reload this page in a few minutes for the result."),
    "update_safe": ("Gói được kiểm tra chữ ký trước khi cài. Nếu phiên bản mới không chạy được, "
                    "bộ máy tự quay lại phiên bản cũ cùng toàn bộ dữ liệu.",
                    "The bundle's signature is checked before anything is installed. If the new "
                    "version does not run, the kit goes back to the previous one with all data."),
    "update_state_requested": ("Đang chờ cập nhật", "Update waiting to start"),
    "update_state_verified": ("Gói hợp lệ, đang cài", "Bundle verified, installing"),
    "update_state_waiting": ("Đang chờ quét xong để cập nhật",
                             "Waiting for the scan to end before updating"),
    "update_state_installed": ("Lần cập nhật gần nhất thành công",
                               "The last update succeeded"),
    "update_state_rolled_back": ("Lần cập nhật gần nhất không thành công, đã quay lại phiên "
                                 "bản cũ", "The last update failed; the previous version runs"),
    "update_state_refused": ("Lần cập nhật gần nhất bị từ chối", "The last update was refused"),
    "update_state_failed": ("Lần cập nhật gần nhất không thành công",
                            "The last update failed"),
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
    "print": ("In phiếu", "Print"),
    "lang": ("English", "Tiếng Việt"),
    "no_history": ("Chưa có số liệu: máy vừa khởi động, hãy chờ vài phút.",
                   "No data yet: the service has just started, wait a few minutes."),
    "open_jobs": ("Hồ sơ đang quét hoặc tạm dừng (bấm để mở)",
                  "Jobs scanning or paused (press to open)"), "scanner": ("Máy quét", "Scanner"),
}

# The technician's device page: what each metric is called (its key stays in the page's
# data-metric and title attributes), the words of NUT's `ups.status`, device kinds and a few
# values. devices.js gets them as JSON through t("device_words") (see devices.html).
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "ups.status": ("Nguồn điện", "Power"),
    "battery.charge": ("Mức pin", "Battery charge"),
    "battery.runtime": ("Thời gian pin còn lại", "Battery time left"),
    "battery.charge.estimated": ("Mức pin là ước tính", "Charge is estimated"),
    "battery.voltage": ("Điện áp ắc quy", "Battery voltage"),
    "input.voltage": ("Điện áp lưới", "Mains voltage"),
    "input.voltage.fault": ("Điện áp lưới khi lỗi", "Mains voltage at fault"),
    "input.frequency": ("Tần số lưới", "Mains frequency"),
    "output.voltage": ("Điện áp ra", "Output voltage"),
    "ups.load": ("Tải của bộ lưu điện", "UPS load"),
    "ups.temperature": ("Nhiệt độ bộ lưu điện", "UPS temperature"),
    "ups.alarm": ("Cảnh báo của bộ lưu điện", "UPS alarm"),
    "ups.type": ("Loại bộ lưu điện", "UPS type"),
    "ups.beeper.status": ("Còi báo", "Beeper"),
    "network.connected": ("Có Internet", "Internet connected"),
    "network.operator": ("Nhà mạng", "Operator"),
    "network.type": ("Loại mạng", "Network type"),
    "network.registration": ("Đăng ký mạng", "Network registration"),
    "network.plmn": ("Mã nhà mạng (PLMN)", "Operator code (PLMN)"),
    "network.status": ("Mã trạng thái modem", "Modem status code"),
    "network.status_text": ("Trạng thái modem", "Modem status"),
    "signal.bars": ("Vạch sóng", "Signal bars"),
    "signal.rsrp": ("Cường độ sóng (RSRP)", "Signal strength (RSRP)"),
    "signal.rsrq": ("Chất lượng sóng (RSRQ)", "Signal quality (RSRQ)"),
    "signal.sinr": ("Tín hiệu/nhiễu (SINR)", "Signal/noise (SINR)"),
    "signal.rssi": ("Mức thu (RSSI)", "Received level (RSSI)"),
    "signal.csq": ("Chỉ số sóng (CSQ)", "Signal index (CSQ)"),
    "signal.band": ("Băng tần", "Band"),
    "traffic.rx_bytes": ("Đã tải xuống (phiên này)", "Downloaded (this session)"),
    "traffic.tx_bytes": ("Đã tải lên (phiên này)", "Uploaded (this session)"),
    "traffic.rx_total": ("Tổng đã tải xuống", "Downloaded in total"),
    "traffic.tx_total": ("Tổng đã tải lên", "Uploaded in total"),
    "traffic.rx_rate": ("Tốc độ tải xuống", "Download speed"),
    "traffic.tx_rate": ("Tốc độ tải lên", "Upload speed"),
    "traffic.connect_time": ("Đã kết nối được", "Connected for"),
    "system.cpu_temp": ("Nhiệt độ CPU", "CPU temperature"),
    "system.cpu_percent": ("CPU đang dùng", "CPU in use"),
    "system.load1": ("Tải hệ thống (1 phút)", "System load (1 min)"),
    "system.memory_used": ("Bộ nhớ đã dùng", "Memory used"),
    "system.memory_available": ("Bộ nhớ còn trống", "Memory available"),
    "system.disk_free": ("Thẻ nhớ còn trống", "Storage free"),
    "system.disk_used": ("Thẻ nhớ đã dùng", "Storage used"),
    "system.uptime": ("Máy đã chạy được", "Running for"),
    "system.throttled": ("Bị giảm tốc (nóng/nguồn yếu)", "Throttled (heat/power)"),
    "system.clock_synced": ("Đồng hồ đã đồng bộ", "Clock synchronised"),
    "printer.state": ("Trạng thái máy in", "Printer state"),
    "printer.model": ("Kiểu máy in", "Printer model"),
    "supply.drum": ("Trống mực", "Drum"),
    "supply.waste_toner": ("Hộp mực thải", "Waste toner box"),
    "supply.waste_ink": ("Hộp mực thải", "Waste ink box"),
    "receipt.online": ("Máy in phiếu sẵn sàng", "Slip printer ready"),
    "receipt.paper": ("Giấy in phiếu", "Slip paper"),
    "receipt.cover_open": ("Nắp đang mở", "Cover open"),
    "receipt.transport": ("Kết nối", "Connection"),
    "usb.present": ("Đã cắm", "Plugged in"),
    "usb.bus": ("Cổng USB (bus)", "USB bus"),
    "usb.address": ("Địa chỉ USB", "USB address"),
}
_COLOURS = {"black": ("đen", "Black"), "cyan": ("xanh lơ", "Cyan"),
            "magenta": ("đỏ tươi", "Magenta"), "yellow": ("vàng", "Yellow")}
METRIC_WORDS.update({f"supply.{c}_{kind}": (f"Mực {vi}", f"{en} {kind}")
                     for c, (vi, en) in _COLOURS.items() for kind in ("toner", "ink")})

# NUT `ups.status` words; unknown ones are shown as they are
UPS_WORDS: dict[str, tuple[str, str]] = {
    "OL": ("Điện lưới", "On mains"), "OB": ("Đang chạy pin", "On battery"),
    "LB": ("Pin yếu", "Low battery"), "HB": ("Pin đầy quá mức", "High battery"),
    "RB": ("Cần thay ắc quy", "Replace battery"), "CHRG": ("Đang sạc", "Charging"),
    "DISCHRG": ("Đang xả pin", "Discharging"), "BYPASS": ("Bỏ qua bộ lưu điện (bypass)", "Bypass"),
    "CAL": ("Đang hiệu chuẩn", "Calibrating"), "OFF": ("Bộ lưu điện tắt", "UPS off"),
    "OVER": ("Quá tải", "Overloaded"), "TRIM": ("Đang hạ áp", "Lowering voltage"),
    "BOOST": ("Đang tăng áp", "Raising voltage"),
    "FSD": ("Sắp tắt máy (FSD)", "Shutting down (FSD)"),
    "ALARM": ("Có cảnh báo", "Alarm"), "TEST": ("Đang tự kiểm tra", "Self-test"),
    "ECO": ("Chế độ tiết kiệm", "Eco mode"),
}

KIND_WORDS: dict[str, tuple[str, str]] = {
    "ups": ("Bộ lưu điện", "UPS"), "modem": ("Modem 4G", "4G modem"),
    "printer": ("Máy in", "Printer"), "system": ("Máy tính", "Computer"),
    "usb": ("Thiết bị USB", "USB device"), "scanner": ("Máy quét", "Scanner"),
    "receipt": ("Máy in phiếu", "Slip printer"),
}

# "metric=value" -> words, for the few text values a technician reads
VALUE_WORDS: dict[str, tuple[str, str]] = {
    "printer.state=idle": ("Sẵn sàng", "Idle"), "printer.state=processing": ("Đang in", "Printing"),
    "printer.state=stopped": ("Đã dừng", "Stopped"),
    "printer.state=unknown": ("Không rõ", "Unknown"),
    "network.registration=home": ("Mạng trong nước", "Home network"),
    "network.registration=roaming": ("Chuyển vùng", "Roaming"),
    "network.registration=searching": ("Đang tìm mạng", "Searching"),
    "network.registration=denied": ("Bị từ chối", "Denied"),
    "network.registration=none": ("Chưa đăng ký", "Not registered"),
    "receipt.paper=ok": ("Còn giấy", "Loaded"), "receipt.paper=near-end": ("Sắp hết", "Nearly out"),
    "receipt.paper=out": ("Hết giấy", "Out"), "receipt.paper=unknown": ("Không rõ", "Unknown"),
    "receipt.transport=file": ("Tệp (thử nghiệm)", "File (test)"),
    "receipt.transport=sim": ("Mô phỏng", "Simulated"),
    "receipt.transport=network": ("Mạng", "Network"),
    "receipt.transport=serial": ("Cổng COM", "Serial"),
    "ups.beeper.status=enabled": ("Bật", "On"), "ups.beeper.status=disabled": ("Tắt", "Off"),
    "ups.type=online": ("Online", "Online"),
    "ups.type=line-interactive": ("Line-interactive", "Line-interactive"),
    "system.throttled=0x0": ("Không", "No"),
}

# units of durations, yes/no
UNIT_WORDS: dict[str, tuple[str, str]] = {
    "s": ("giây", "s"), "min": ("phút", "min"), "h": ("giờ", "h"), "d": ("ngày", "d"),
    "yes": ("Có", "Yes"), "no": ("Không", "No"),
}


# a device card's state word: how urgent, not what is wrong (the problem text says that); a
# UPS's own words, since a low battery is a power alarm, not a broken device
STATE_WORDS: dict[str, tuple[str, str]] = {
    "ok": ("Bình thường", "OK"), "warning": ("Cần chú ý", "Needs attention"),
    "fault": ("Cần xử lý ngay", "Needs action now"),
    "absent": ("Không thấy thiết bị", "Not found"), "unknown": ("Không rõ trạng thái", "Unknown"),
    "ups.warning": ("Cảnh báo nguồn điện", "Power warning"),
    "ups.fault": ("Báo động nguồn điện", "Power alarm"),
}

# the kit's own error pages and API errors for what the framework refuses (by HTTP status)
ERROR_WORDS: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ.", "The request is not valid."),
    401: ("Hãy đăng nhập trước.", "Log in first."),
    403: ("Tài khoản của bạn không có quyền dùng chức năng này.",
          "Your account may not use this."),
    404: ("Không có trang này. Hãy kiểm tra lại địa chỉ hoặc về trang chính.",
          "There is no such page. Check the address or go back to the start page."),
    405: ("Trang này không nhận thao tác đó. Hãy về trang chính và làm lại.",
          "This page does not take that action. Go back to the start page and try again."),
    413: ("Dữ liệu gửi lên quá lớn.", "What was sent is too large."),
    429: ("Quá nhiều yêu cầu. Hãy chờ một lát rồi thử lại.",
          "Too many requests. Wait a moment and try again."),
    500: ("Lỗi hệ thống; các trang đã quét vẫn an toàn. Hãy báo kỹ thuật viên.",
          "Internal error (logged); nothing scanned is lost. Tell the technician."),
    503: ("Dịch vụ tạm thời không dùng được. Hãy báo kỹ thuật viên.",
          "The service cannot do this now. Tell the technician."),
}
WORDS.update({f"error_{code}": pair for code, pair in ERROR_WORDS.items()})
WORDS.update({
    "error_title": ("Có lỗi", "Something went wrong"),
    "error_title_404": ("Không tìm thấy trang", "Page not found"),
    "home": ("Về trang chính", "Back to the start page"),
    "imported": ("Tệp nhập vào", "Imported files"),
    "printed_on": ("Đã in phiếu {ticket} trên {printer}.", "Slip {ticket} printed on {printer}."),
    "print_waiting": ("Phiếu chưa in được trên {printer}: {why}",
                      "The slip is not printed yet on {printer}: {why}"),
    "print_failed": ("Không in được phiếu trên {printer}: {why}",
                     "The slip was not printed on {printer}: {why}"),
    "required": ("Thiếu thông tin bắt buộc: {fields}.", "Fill in: {fields}."),
    "required_mark": ("Bắt buộc", "Required"),
    "date_hint": ("ngày/tháng/năm", "dd/mm/yyyy"),
    "next_citizen": ("Biểu mẫu đã sẵn sàng cho người tiếp theo.",
                     "The form is ready for the next citizen."),
})

# request fields named in errors ("Hãy nhập mã hồ sơ"), by their JSON key
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "scanner": ("máy quét", "scanner"), "doc": ("tên giấy tờ", "document type"),
    "dossier": ("mã hồ sơ", "dossier code"), "preset": ("loại giấy tờ", "preset"),
    "name": ("tên đăng nhập", "user name"), "password": ("mật khẩu", "password"),
    "ticket": ("số phiếu", "ticket"),
}


def _device_words(i: int) -> str:
    tables = {"metrics": METRIC_WORDS, "ups": UPS_WORDS, "kinds": KIND_WORDS,
              "values": VALUE_WORDS, "units": UNIT_WORDS, "states": STATE_WORDS}
    return json.dumps({name: {k: pair[i] for k, pair in table.items()}
                       for name, table in tables.items()}, ensure_ascii=False)


WORDS["device_words"] = (_device_words(0), _device_words(1))


def lang() -> str:
    return str(session.get("lang") or current_app.config["EDGE_LANG"])


def t(key: str) -> str:
    vi, en = WORDS.get(key, (key, key))
    return vi if lang() == "vi" else en


# The staff pages (scan, dossiers): states, what is left to do, the page viewer, the questions
# asked before a scan, the power line. staff.js gets them as JSON through staff_words();
# "{n}", "{ref}"... are filled in there.
STAFF_WORDS: dict[str, tuple[str, str]] = {
    "state.queued": ("Đang chờ quét", "Waiting to scan"),
    "state.scanning": ("Đang quét", "Scanning"), "state.paused": ("Tạm dừng", "Paused"),
    "state.assembling": ("Đang tạo tệp PDF", "Making the PDF"),
    "state.ready": ("Đã xong, chưa nộp", "Done, not uploaded"),
    "state.uploaded": ("Đã nộp lên Cổng", "Uploaded to the portal"),
    "state.failed": ("Bị lỗi", "Failed"),
    "todo.decide_paused": ("Giấy tờ đang tạm dừng: quét tiếp hoặc hoàn tất",
                           "A paused document: resume or finish it"),
    "todo.wait_scanning": ("Chờ quét xong", "Wait until scanning ends"),
    "todo.give_code": ("Nhập mã hồ sơ của Cổng", "Give the portal's dossier code"),
    "todo.upload": ("Nộp lên Cổng rồi bấm “Đã nộp lên Cổng”",
                    "Upload to the portal, then press “Mark uploaded”"),
    "todo.none": ("Không còn việc gì", "Nothing left to do"),
    "todo": ("Còn phải làm", "Left to do"),
    "page_n": ("Trang {n}", "Page {n}"), "pages_n": ("{n} trang", "{n} pages"),
    "page_of": ("Trang {n}/{total}", "Page {n} of {total}"),
    "doc_n": ("Giấy tờ {n}", "Document {n}"), "docs_n": ("{n} giấy tờ", "{n} documents"),
    "blank_apart": ("Trang trắng đã bỏ ra (không có trong tệp PDF)",
                    "Blank sides set aside (not in the PDF)"),
    "blank_n": ("Trang trắng {n}", "Blank side {n}"),
    "restore": ("Đưa lại vào tệp", "Put back in the file"),
    "prev": ("‹ Trang trước", "‹ Previous"), "next": ("Trang sau ›", "Next ›"),
    "close": ("Đóng", "Close"), "back": ("Quay lại", "Go back"),
    "paused_title": ("Máy quét này còn một giấy tờ đang tạm dừng",
                     "This scanner has a paused document"),
    "paused_text": ("{ref} · {doc}: đã quét {n} trang thì dừng. {why} Hãy chọn trước khi quét "
                    "hồ sơ mới, để giấy tờ của hai người không lẫn vào nhau.",
                    "{ref} · {doc}: stopped after {n} pages. {why} Choose before a new scan, so "
                    "two citizens' papers never mix."),
    "paused_resume": ("Quét tiếp giấy tờ đó", "Resume it"),
    "paused_finish": ("Hoàn tất giấy tờ đó với {n} trang", "Finish it now with {n} pages"),
    "paused_aside": ("Để riêng, quét hồ sơ mới", "Set it aside, start a new scan"),
    "finish_title": ("Hoàn tất khi chưa quét hết?", "Finish before every sheet is scanned?"),
    "finish_text": ("Giấy tờ này bị dừng giữa chừng và mới có {n} trang. Tệp PDF sẽ chỉ gồm {n} "
                    "trang này.", "This document was interrupted and holds {n} pages. The PDF "
                    "will hold only these {n} pages."),
    "finish_yes": ("Hoàn tất với {n} trang", "Finish with {n} pages"),
    "busy": ("Máy quét này đang quét một giấy tờ. Chờ quét xong rồi bấm Quét.",
             "This scanner is busy with a document. Wait until it is done, then press Scan."),
    "adding": ("Đang thêm vào hồ sơ {ref}", "Adding to dossier {ref}"),
    "adding_next": ("Giấy tờ tiếp theo là số {n}.", "The next document is number {n}."),
    "new_dossier": ("Quét hồ sơ mới", "Scan a new dossier"),
    "scan_next": ("Quét thêm giấy tờ vào hồ sơ này", "Scan another document into it"),
    "open_dossier": ("Xem hồ sơ", "Open the dossier"),
    "power.mains": ("Nguồn: điện lưới", "Power: mains"),
    "power.battery": ("Mất điện lưới: đang chạy bằng pin, còn khoảng {min} phút. Hãy hoàn tất "
                      "giấy tờ đang quét.", "Mains power lost: on battery, about {min} minutes "
                      "left. Finish the document being scanned."),
    "power.battery_unknown": ("Mất điện lưới: đang chạy bằng pin. Hãy hoàn tất giấy tờ đang "
                              "quét.", "Mains power lost: on battery. Finish the document "
                              "being scanned."),
    "power.low": ("Pin sắp hết: không quét hồ sơ mới được cho đến khi có điện lưới trở lại.",
                  "Battery nearly empty: no new scans until mains power is back."),
    "code_saved": ("Đã lưu mã hồ sơ; các tệp đã đổi tên.", "Code saved; the files were renamed."),
    "marked_uploaded": ("Đã đánh dấu hồ sơ đã nộp.", "The dossier is marked uploaded."),
    "search_none": ("Không có hồ sơ nào khớp.", "No dossier matches."),
    "pending_none": ("Không còn hồ sơ nào chưa nộp.", "No dossier left to upload."),
    "today_none": ("Hôm nay chưa quét hồ sơ nào. Bấm “Quét hồ sơ mới” để bắt đầu.",
                   "No dossier scanned today. Press “Scan a new dossier” to begin."),
    "at": ("lúc {time}", "at {time}"),
    "dstate.scanning": ("Đang quét", "Scanning"),
    "dstate.paused": ("Có giấy tờ tạm dừng", "A document is paused"),
    "dstate.ready": ("Đã quét xong, chưa nộp", "Scanned, not uploaded"),
    "dstate.uploaded": ("Đã nộp lên Cổng", "Uploaded to the portal"),
    "dstate.failed": ("Bị lỗi", "Failed"),
    "title.today": ("Hồ sơ hôm nay", "Today's dossiers"), "title.all": ("Hồ sơ", "Dossiers"),
    "download_pdf": ("Tải PDF", "Download PDF"),
    "show_pages": ("Các trang đã quét ({n})", "Scanned pages ({n})"),
}


def staff_words() -> str:
    """STAFF_WORDS in the session's language, as JSON for staff.js (not in WORDS: its keys are
    no words a person reads)."""
    i = 0 if lang() == "vi" else 1
    return json.dumps({k: pair[i] for k, pair in STAFF_WORDS.items()}, ensure_ascii=False)
WORDS.update({
    "dossiers_home": ("Hồ sơ", "Dossiers"),
    "today_dossiers": ("Hồ sơ hôm nay", "Today's dossiers"),
    "search": ("Tìm theo số phiếu hoặc mã hồ sơ", "Search by ticket or dossier code"),
    "filter_pending": ("Chưa nộp", "Not uploaded"), "filter_today": ("Hôm nay", "Today"),
    "code": ("Mã hồ sơ trên Cổng", "Portal dossier code"), "save_code": ("Lưu mã", "Save code"),
    "mark_uploaded": ("Đã nộp lên Cổng", "Mark uploaded"),
    "download_zip": ("Tải cả hồ sơ (ZIP)", "Download the dossier (ZIP)"),
    "viewer": ("Xem trang", "Page viewer"),
})
