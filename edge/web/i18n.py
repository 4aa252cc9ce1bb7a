"""The UI's words in Vietnamese (default) and English; the language is kept in the session."""

from __future__ import annotations

import json

from flask import current_app, session

from edge.field.report import ROWS as REPORT_ROWS

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
    # cover sheets (issue 21)
    "cover_page": ("Tờ phân cách", "Cover sheet"),
    "cover_apart": ("Tờ phân cách đã bỏ ra (không có trong tệp PDF)",
                    "Cover sheets set aside (not in the PDF)"),
    "set_apart": ("Trang trắng và tờ phân cách đã bỏ ra (không có trong tệp PDF)",
                  "Blank sides and cover sheets set aside (not in the PDF)"),
    "stack_doc": ("Tài liệu {n}/{total}: {doc}, {pages} trang", "Document {n}/{total}: {doc}, "
                  "{pages} pages"),
    "stack_title": ("Tập giấy đang được tách tại các tờ phân cách:",
                    "The stack is being split at its cover sheets:"),
    "split_done": ("Tập giấy đã được tách thành từng giấy tờ của hồ sơ. Bấm “Xem hồ sơ” để xem "
                   "và sửa chỗ tách nếu cần.", "The stack was split into the dossier's "
                   "documents. Press “Open the dossier” to see them and correct a split."),
    "split_from_cover": ("Tách ra từ tập giấy tại tờ phân cách", "Split from the stack at a "
                         "cover sheet"),
    "split_undo": ("Bỏ tách: gộp vào giấy tờ trước", "Undo: join the document before"),
    "split_later": ("Trang đầu thuộc giấy tờ trước", "First page belongs to the one before"),
    "split_earlier": ("Lấy trang cuối của giấy tờ trước", "Take the last page of the one before"),
    "split_ask": ("Gộp “{doc}” vào giấy tờ trước?", "Join “{doc}” to the document before?"),
    "split_ask_text": ("Hai giấy tờ sẽ thành một tệp PDF; các tệp được tạo lại với mã kiểm tra "
                       "mới.", "The two documents become one PDF; the files are made again "
                       "with new checksums."),
    "split_yes": ("Gộp lại", "Join them"),
    "split_changed": ("Đã sửa chỗ tách; các tệp đang được tạo lại.",
                      "Split corrected; the files are being made again."),
    "covers_printed": ("Đã gửi {n} tờ phân cách tới {printer}.",
                       "{n} cover sheets sent to {printer}."),
    "covers_none": ("Hãy chọn ít nhất một giấy tờ.", "Choose at least one document."),
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

# Delivery to the commune office. Staff (the dossier cards, through staff_words): per target,
# sent, waiting and why, or not sent and why.
STAFF_WORDS.update({
    "delivery.delivered": ("Đã gửi về xã", "Sent to the commune office"),
    "delivery.waiting": ("Chờ gửi về xã", "Waiting to be sent to the commune office"),
    "delivery.failing": ("Chưa gửi được về xã", "Not sent to the commune office yet"),
    "delivery.why.": ("đang gửi", "being sent"),
    "delivery.why.disk": ("chưa cắm ổ đĩa USB", "the USB disk is not plugged in"),
    "delivery.why.window": ("ngoài giờ được gửi", "outside its sending hours"),
    "delivery.why.clock": ("chờ đồng hồ của bộ thiết bị được chỉnh theo mạng",
                           "waiting for the kit's clock to be set from the network"),
    "delivery.why.network": ("chờ có Wi-Fi hoặc mạng dây", "waiting for Wi-Fi or a cable network"),
    "delivery.why.budget": ("đã hết lượng dữ liệu được gửi hôm nay",
                            "today's data allowance is used up"),
    "delivery.fail.unreachable": ("chưa kết nối được, sẽ tự gửi lại",
                                  "cannot connect yet, it tries again by itself"),
    "delivery.fail.login": ("nơi nhận từ chối mật khẩu, hãy báo kỹ thuật viên",
                            "the password is refused there, tell the technician"),
    "delivery.fail.full": ("nơi nhận đã hết chỗ, hãy báo kỹ thuật viên",
                           "no space left there, tell the technician"),
    "delivery.fail.error": ("bị lỗi, hãy báo kỹ thuật viên", "an error, tell the technician"),
})
# The technician's page (static/delivery.js, from #delivery data-words; {n}, {size}, {age},
# {time} are filled in there).
DELIVERY_WORDS: dict[str, tuple[str, str]] = {
    "state.ok": ("Đã gửi hết", "All sent"), "state.waiting": ("Đang chờ gửi", "Waiting"),
    "state.failing": ("Lỗi gửi", "Failing"),
    "waiting_n": ("Chờ gửi: {n} tệp ({size})", "Waiting: {n} file(s) ({size})"),
    "oldest": ("Tệp chờ lâu nhất: {age}", "Oldest waiting file: {age}"),
    "today": ("Hôm nay đã gửi {n} tệp, đã truyền {size}",
              "Sent today: {n} file(s), {size} transferred"),
    "budget": ("Giới hạn mỗi ngày: {size}", "Daily limit: {size}"),
    "why.disk": ("Chưa cắm ổ đĩa USB.", "The USB disk is not plugged in."),
    "why.window": ("Ngoài giờ được gửi; sẽ gửi khi đến giờ.",
                   "Outside its sending hours; it sends when they come."),
    "why.clock": ("Đồng hồ chưa được chỉnh theo mạng (sau khi mất điện) nên chưa biết có "
                  "đúng giờ được gửi không; sẽ gửi khi đồng hồ đúng.",
                  "The clock is not yet set from the network (after a power cut), so the "
                  "sending hours cannot be told; it sends once the clock is right."),
    "why.network": ("Chỉ gửi qua Wi-Fi hoặc mạng dây; đang chờ.",
                    "Sends over Wi-Fi or cable only; waiting."),
    "why.budget": ("Đã hết lượng dữ liệu được gửi hôm nay; gửi tiếp vào ngày mai.",
                   "Today's data allowance is used up; it goes on tomorrow."),
    "next_try": ("Sẽ tự thử lại lúc {time}.", "Tries again at {time}."),
    "retrying": ("Sẽ thử gửi lại trong vài giây.", "Trying again within seconds."),
    "seconds": ("{n} giây", "{n} s"), "minutes": ("{n} phút", "{n} min"),
    "hours": ("{n} giờ", "{n} h"), "days": ("{n} ngày", "{n} days"),
}
WORDS.update({
    "delivery": ("Gửi tệp về xã", "Sending to the commune office"),
    "delivery_retry": ("Thử gửi lại ngay", "Try again now"),
    "delivery_words": tuple(  # type: ignore[dict-item]
        json.dumps({k: pair[i] for k, pair in DELIVERY_WORDS.items()}, ensure_ascii=False)
        for i in (0, 1)),
})
# The fleet page (`edge fleet serve`, edge/web/fleetapp.py): every kit of a commune or province.
FLEET_WORDS: dict[str, tuple[str, str]] = {
    "fleet.kits": ("Các bộ thiết bị", "All kits"), "fleet.month": ("Số liệu tháng",
                                                                  "Monthly figures"),
    "fleet.heading": ("Các bộ thiết bị lưu động", "The mobile kits"),
    "fleet.none": ("Chưa có bộ thiết bị nào gửi dữ liệu về máy chủ.",
                   "No kit has reported to this server yet."),
    "fleet.troubled": ("{n} bộ cần chú ý", "{n} kit(s) need attention"),
    "fleet.all_ok": ("Mọi bộ thiết bị đều bình thường.", "Every kit is fine."),
    "fleet.online": ("Đang hoạt động", "Online"), "fleet.offline": ("Mất kết nối", "Offline"),
    "fleet.never": ("Chưa kết nối lần nào", "Never connected"),
    "fleet.since": ("từ {when} ({ago})", "since {when} ({ago})"),
    "fleet.minutes": ("{n} phút trước", "{n} min ago"), "fleet.hours": ("{n} giờ trước",
                                                                        "{n} h ago"),
    "fleet.days": ("{n} ngày trước", "{n} days ago"),
    "fleet.battery": ("Pin bộ lưu điện", "UPS battery"),
    "fleet.runtime": ("Thời gian chạy pin còn lại", "Battery time left"),
    "fleet.runtime_min": ("khoảng {n} phút", "about {n} min"),
    "fleet.signal": ("Sóng 4G", "4G signal"), "fleet.disk_free": ("Dung lượng trống",
                                                                 "Free disk space"),
    "fleet.waiting": ("Tệp chờ chuyển lâu nhất", "Oldest file not yet delivered"),
    "fleet.version": ("Phiên bản phần mềm", "Software version"),
    "fleet.last_news": ("Tin gần nhất", "Last heard"),
    "fleet.last_event": ("Sự kiện gần nhất", "Last event"),
    "fleet.today": ("Hôm nay", "Today"),
    "fleet.today_figures": ("{jobs} giấy tờ, {pages} trang, {receipts} phiếu",
                            "{jobs} documents, {pages} pages, {receipts} slips"),
    "fleet.open": ("Xem chi tiết", "Details"),
    "fleet.history": ("Diễn biến 30 ngày qua", "The last 30 days"),
    "fleet.no_history": ("Chưa có số liệu đo nào trong 30 ngày qua.",
                         "No measurement in the last 30 days."),
    "fleet.days_table": ("Số liệu 7 ngày gần nhất", "The last 7 days"),
    "fleet.day": ("Ngày", "Day"), "fleet.events": ("Sự kiện gần đây", "Recent events"),
    "fleet.no_events": ("Chưa có sự kiện nào.", "No event yet."),
    "fleet.p.offline": ("Mất kết nối với máy chủ", "Not connected to the server"),
    "fleet.p.on_battery": ("Mất điện lưới, đang chạy bằng pin", "Mains lost, on battery"),
    "fleet.p.battery_low": ("Pin yếu", "Battery low"),
    "fleet.p.signal_weak": ("Sóng 4G yếu", "Weak 4G signal"),
    "fleet.p.disk_low": ("Sắp hết dung lượng lưu trữ", "Disk nearly full"),
    "fleet.p.waiting_long": ("Có tệp chưa chuyển được hơn một ngày",
                             "A file has waited over a day to be delivered"),
    "fleet.p.clock": ("Đồng hồ của bộ thiết bị chưa được đồng bộ", "The kit's clock is not set"),
    "fleet.wrong_login": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong name or password."),
    "fleet.too_many": ("Đăng nhập sai quá nhiều lần. Hãy chờ vài phút rồi thử lại.",
                       "Too many failed logins. Wait a few minutes and try again."),
    "fleet.db_down": ("Không đọc được cơ sở dữ liệu của máy chủ. Hãy báo cho cán bộ kỹ thuật.",
                      "The server's database cannot be read. Tell the technician."),
    "fleet.month_of": ("Số liệu tháng {month}", "Figures for {month}"),
    "fleet.prev_month": ("‹ Tháng trước", "‹ Previous month"),
    "fleet.next_month": ("Tháng sau ›", "Next month ›"),
    "fleet.by_commune": ("Theo xã", "By commune"), "fleet.by_place": ("Theo điểm phục vụ",
                                                                     "By service point"),
    "fleet.commune": ("Xã", "Commune"), "fleet.place": ("Điểm phục vụ", "Service point"),
    "fleet.no_month": ("Tháng này chưa có số liệu.", "No figures for this month."),
    "fleet.no_places": ("Chưa có số liệu theo điểm phục vụ trong tháng này.",
                        "No figures per service point this month."),
    "fleet.csv": ("Tải bảng CSV", "Download CSV"), "fleet.xlsx": ("Tải tệp Excel",
                                                                  "Download Excel"),
    "fleet.col.kits": ("Số bộ thiết bị", "Kits"),
    "fleet.col.days": ("Số ngày phục vụ", "Days of service"),
    "fleet.col.jobs": ("Giấy tờ đã số hóa", "Documents digitised"),
    "fleet.col.pages": ("Số trang", "Pages"), "fleet.col.receipts": ("Phiếu đã in",
                                                                     "Slips printed"),
    "fleet.col.delivered_files": ("Tệp đã chuyển về xã", "Files delivered"),
    "fleet.col.visits": ("Số buổi", "Visits"), "fleet.col.served": ("Lượt phục vụ",
                                                                    "People served"),
    "fleet.col.served_priority": ("Ưu tiên", "Priority"),
    "fleet.col.left": ("Bỏ về", "Left unserved"),
    "fleet.col.slips": ("Phiếu đã in", "Slips printed"),
    "fleet.col.survey_answers": ("Phiếu khảo sát", "Survey answers"),
    "fleet.col.survey_satisfied": ("Hài lòng", "Satisfied"),
    "fleet.col.satisfied_pct": ("Tỉ lệ hài lòng (%)", "Satisfaction (%)"),
    "fleet.ev.job/ready": ("Số hóa xong một giấy tờ", "A document was finished"),
    "fleet.ev.job/failed": ("Một giấy tờ bị lỗi", "A document failed"),
    "fleet.ev.job/paused": ("Một giấy tờ tạm dừng", "A document was paused"),
    "fleet.ev.power/on_battery": ("Mất điện lưới, chạy bằng pin", "Mains lost, on battery"),
    "fleet.ev.power/on_line": ("Có điện lưới trở lại", "Mains power back"),
    "fleet.ev.power/critical": ("Pin sắp cạn", "Battery nearly empty"),
    "fleet.ev.power/restored": ("Làm tiếp sau khi mất điện", "Work resumed after a power cut"),
    "fleet.ev.device/lost": ("Một thiết bị mất kết nối", "A device was lost"),
    "fleet.ev.device/found": ("Một thiết bị kết nối lại", "A device came back"),
    "fleet.ev.service/started": ("Phần mềm khởi động", "The service started"),
    "fleet.ev.service/stopped": ("Phần mềm dừng", "The service stopped"),
    "fleet.ev.update/installed": ("Đã cập nhật phần mềm", "Software updated"),
    "fleet.ev.update/rolled_back": ("Bản cập nhật bị gỡ, trở lại bản cũ",
                                    "An update was rolled back"),
    "fleet.ev.update/refused": ("Bản cập nhật bị từ chối", "An update was refused"),
    "fleet.ev.delivery": ("Chuyển tệp về xã", "File delivery"),
    "fleet.ev.other": ("Sự kiện khác", "Other event"),
}
WORDS.update(FLEET_WORDS)
WORDS.update({  # cover sheets (issue 21)
    "covers": ("In tờ phân cách", "Print cover sheets"),
    "covers_how": ("Đặt một tờ phân cách trước mỗi giấy tờ rồi quét cả tập một lần: hệ thống tự "
                   "tách thành từng tệp theo tên giấy tờ.", "Put a cover sheet before each "
                   "document and scan the whole stack at once: it is split into one named file "
                   "per document."),
    "procedure": ("Thủ tục", "Procedure"),
    "covers_docs": ("Giấy tờ cần tờ phân cách", "Documents that need a cover sheet"),
    "covers_print": ("In tờ phân cách", "Print cover sheets"),
    "covers_pdf": ("Tải tệp PDF để in", "Download the PDF to print"),
})

# The day in the field (visits, reception, calling numbers, the display): what the pages say,
# and what visit.js, reception.js, queue.js and display.js draw with, as JSON through
# queue_words(); "{n}", "{area}"... are filled in there.
WORDS.update({
    "visit": ("Buổi lưu động", "Visit"), "reception": ("Cấp số", "Queue numbers"),
    "queue": ("Gọi số", "Call numbers"), "display": ("Màn hình gọi số", "Calling screen"),
    "no_slip_printer": ("Chưa cấu hình máy in phiếu: hãy đọc số cho công dân.",
                        "No receipt printer is configured: tell the citizen the number."),
})
QUEUE_WORDS: dict[str, tuple[str, str]] = {
    "area.reception": ("Tiếp đón – tư vấn", "Reception and advice"),
    "area.digitise": ("Số hoá hồ sơ", "Digitising papers"),
    "area.support": ("Hỗ trợ số", "Digital support"),
    "area_hint.reception": ("Hỏi thủ tục, hướng dẫn, nộp hồ sơ",
                            "Questions, guidance, handing in papers"),
    "area_hint.digitise": ("Quét giấy tờ thành hồ sơ điện tử", "Scanning papers into files"),
    "area_hint.support": ("VNeID, thanh toán trực tuyến, tra cứu hồ sơ",
                          "VNeID, online payment, looking a dossier up"),
    "priority.merit": ("Người có công với cách mạng", "Person of merit"),
    "priority.elderly": ("Người cao tuổi", "Elderly person"),
    "priority.disability": ("Người khuyết tật", "Person with a disability"),
    "priority.worker": ("Công nhân, người lao động", "Worker"),
    "priority.none": ("Không ưu tiên", "No priority"),
    "state.waiting": ("Đang chờ", "Waiting"), "state.called": ("Đã gọi", "Called"),
    "state.done": ("Đã phục vụ xong", "Served"), "state.left": ("Đã về", "Left"),
    "visit_none": ("Chưa có buổi lưu động nào đang diễn ra.", "No visit is open."),
    "visit_open": ("Đang diễn ra tại {place}, bắt đầu lúc {time}.",
                   "Open at {place} since {time}."),
    "visit_place": ("Thôn, tổ dân phố", "Hamlet or residential group"),
    "visit_other": ("Nơi khác (nhập tên)…", "Another place (type its name)…"),
    "visit_typed": ("Tên thôn, tổ dân phố", "Name of the hamlet or group"),
    "visit_venue": ("Địa điểm (ví dụ: Nhà văn hóa thôn)", "Venue (e.g. the cultural house)"),
    "visit_start": ("Bắt đầu buổi lưu động", "Start the visit"),
    "visit_end": ("Kết thúc buổi lưu động", "End the visit"),
    "visit_end_ask": ("Kết thúc buổi tại {place}? Số nào còn đang chờ sẽ được ghi là đã về.",
                      "End the visit at {place}? Numbers still waiting are marked as left."),
    "visit_ended": ("Đã kết thúc buổi tại {place} lúc {time}: phục vụ {done} người, {left} "
                    "người đã về.", "The visit at {place} ended at {time}: {done} served, "
                    "{left} left."),
    "visit_counts": ("Hôm nay: {waiting} đang chờ, {called} đang phục vụ, {done} đã xong, "
                     "{left} đã về.", "Today: {waiting} waiting, {called} being served, "
                     "{done} served, {left} left."),
    "visit_first": ("Hãy bắt đầu buổi lưu động trước khi cấp số.",
                    "Start the visit before giving numbers."),
    "go_visit": ("Mở trang Buổi lưu động", "Open the Visit page"),
    "choose_area": ("1. Công dân cần làm gì?", "1. What does the citizen need?"),
    "choose_priority": ("2. Đối tượng ưu tiên (nếu có)", "2. Priority group (if any)"),
    "issue": ("Cấp số và in phiếu", "Give a number and print its slip"),
    "issued": ("Số {n}", "Number {n}"),
    "issued_to": ("Mời đến khu vực {area}", "Please go to {area}"),
    "waiting_n": ("{n} người đang chờ", "{n} waiting"),
    "my_area": ("Khu vực của tôi", "My area"),
    "call_next": ("Gọi số tiếp theo", "Call the next number"),
    "nobody": ("Không còn ai chờ ở khu vực này.", "Nobody is waiting for this area."),
    "serving": ("Đang phục vụ", "Being served"),
    "recall": ("Gọi lại", "Call again"), "done": ("Xong", "Done"),
    "left": ("Công dân đã về", "The citizen left"),
    "scan_for": ("Quét giấy tờ", "Scan papers"),
    "scanning_for": ("Quét giấy tờ cho công dân số {n}", "Scanning papers for number {n}"),
    "scanned": ("Đã có hồ sơ {ticket}", "Dossier {ticket}"),
    "waiting_list": ("Số đang chờ", "Numbers waiting"),
    "priority_mark": ("Ưu tiên", "Priority"),
    "issued_at": ("lấy số lúc {time}", "since {time}"),
    "now_calling": ("Mời công dân có số", "Now calling"),
    "to_area": ("đến khu vực", "please go to"),
    "recent": ("Các số vừa gọi", "Numbers called before"),
    "none_called": ("Chưa gọi số nào", "No number called yet"),
    "done_n": ("Số {n}: đã xong.", "Number {n}: served."),
    "left_n": ("Số {n}: đã ghi là công dân đã về.", "Number {n}: marked as left."),
    "recalled_n": ("Đã gọi lại số {n}.", "Number {n} called again."),
    "back": ("Quay lại", "Go back"), "left_short": ("Đã về", "Left"),
    "called_n": ("Đã gọi số {n}: màn hình đang mời công dân đến.",
                 "Number {n} called: the screen is asking the citizen to come."),
}


def queue_table() -> dict[str, str]:
    """QUEUE_WORDS in the session's language (the field pages' templates)."""
    i = 0 if lang() == "vi" else 1
    return {k: pair[i] for k, pair in QUEUE_WORDS.items()}


def queue_words() -> str:
    """QUEUE_WORDS in the session's language, as JSON for static/field.js."""
    return json.dumps(queue_table(), ensure_ascii=False)

# The day in the field (issue 18): the survey kiosk and the report page. The report's rows
# ("report.<code>") are the report module's own (vi, en) pairs, so a file and the page agree.
WORDS.update({
    "kiosk_no_visit": ("Chưa có buổi lưu động nào đang diễn ra: câu trả lời sẽ không được tính "
                       "vào báo cáo của buổi nào.", "No visit is open: answers will count in no "
                       "visit's report."),
    "kiosk_go_visit": ("Bắt đầu buổi lưu động", "Start a visit"),
    "survey": ("Khảo sát hài lòng", "Satisfaction survey"),
    "survey_question": ("Ông/bà có hài lòng với việc phục vụ hôm nay không?",
                        "Are you satisfied with the service today?"),
    "face_1": ("Rất không hài lòng", "Very unsatisfied"),
    "face_2": ("Không hài lòng", "Unsatisfied"), "face_3": ("Bình thường", "Neutral"),
    "face_4": ("Hài lòng", "Satisfied"), "face_5": ("Rất hài lòng", "Very satisfied"),
    "better_question": ("Điều gì cần làm tốt hơn? (không bắt buộc, chọn một hoặc nhiều)",
                        "What could be better? (optional, choose any)"),
    "better_wait": ("Chờ lâu", "Waiting time"),
    "better_guidance": ("Hướng dẫn chưa rõ", "Unclear guidance"),
    "better_equipment": ("Máy móc trục trặc", "Equipment problems"),
    "better_attitude": ("Thái độ phục vụ", "Staff attitude"), "better_other": ("Khác", "Other"),
    "survey_number": ("Số thứ tự trên phiếu của ông/bà (nếu có)",
                      "The number on your queue slip (if any)"),
    "survey_send": ("Gửi đánh giá", "Send"), "survey_back": ("Chọn lại", "Choose again"),
    "survey_thanks": ("Cảm ơn ông/bà đã đánh giá!", "Thank you for your answer!"),
    "survey_thanks_more": ("Ý kiến của ông/bà giúp chúng tôi phục vụ tốt hơn.",
                           "Your opinion helps us serve you better."),
    "survey_saved_later": ("Đã lưu trên máy này, sẽ gửi khi có kết nối.",
                           "Kept on this device; it is sent when the connection is back."),
    "kiosk_intro": ("Bật chế độ khảo sát trên máy tính bảng hoặc điện thoại này: người dân "
                    "tự chấm điểm, không cần đăng nhập. Tài khoản của bạn sẽ được đăng xuất "
                    "khỏi máy này; muốn thoát chế độ khảo sát phải đăng nhập lại.",
                    "Turn this tablet or phone into the survey kiosk: citizens answer without "
                    "logging in. Your account is logged out of this device; leaving the kiosk "
                    "needs a login again."),
    "kiosk_start": ("Bật chế độ khảo sát", "Start the survey kiosk"),
    "kiosk_leave": ("Thoát khảo sát (cần đăng nhập)", "Leave the kiosk (login needed)"),
    "reports": ("Báo cáo", "Reports"),
    "report_visit": ("Báo cáo một buổi", "Report of a visit"),
    "report_month": ("Báo cáo tháng", "Monthly report"),
    "report_choose_visit": ("Chọn buổi lưu động", "Choose the visit"),
    "report_choose_month": ("Tháng", "Month"), "report_place": ("Địa điểm", "Place"),
    "report_show": ("Xem số liệu", "Show the figures"),
    "report_csv": ("Tải CSV", "Download CSV"), "report_xlsx": ("Tải Excel (XLSX)",
                                                               "Download Excel (XLSX)"),
    "report_pdf": ("Tải PDF để in", "Download PDF to print"),
    "report_none": ("Chưa có buổi lưu động nào.", "No visit yet."),
    "report_indicator": ("Chỉ tiêu", "Indicator"), "report_total": ("Tổng cộng", "Total"),
    "report_procedures": ("Hồ sơ theo thủ tục", "Dossiers by procedure"),
    "report_procedure": ("Thủ tục", "Procedure"), "report_other": ("khác", "other"),
    "report_print_hint": ("Tệp PDF là một trang A4, in bằng máy in của bộ thiết bị.",
                          "The PDF is one A4 page for the kit's printer."),
    "report_open": ("đang diễn ra", "in progress"),
    "report_all_places": ("Tất cả địa điểm", "All places"),
})
WORDS.update({f"report.{code}": (vi, en) for code, vi, en in REPORT_ROWS})
