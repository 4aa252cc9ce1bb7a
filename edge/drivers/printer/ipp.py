"""The real multifunction-printer driver: IPP to the printer itself or to a CUPS queue.

It talks IPP through CUPS's own `ipptool` (package cups-ipp-utils) rather than a hand-written
encoder of the binary protocol: each request is a small `.test` file written to a temporary
directory, and `ipptool -X` answers with an XML property list that `plistlib` reads. A printer
that does not answer at its URI is `DeviceAbsent` with a message telling people to check its
power and cable; any IPP error answer becomes a `DeviceError` saying what to fix.
"""

from __future__ import annotations

import plistlib
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from edge.drivers.device import Device
from edge.drivers.printer import check_pdf, job_state_name, job_title, reading_from_attributes
from edge.drivers.printer.settings import IppSettings
from edge.errors import DeviceAbsent, DeviceError
from edge.health import Reading

IPPTOOL = "ipptool"
STATUS_ATTRIBUTES = ("printer-state", "printer-state-reasons", "printer-state-message",
                     "printer-supply", "printer-supply-description", "marker-names",
                     "marker-levels", "marker-colors", "marker-types", "printer-make-and-model")

_OPERATION_GROUP = """\
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
"""
_OK = """\
  STATUS successful-ok
  STATUS successful-ok-ignored-or-substituted-attributes
"""

GET_PRINTER_ATTRIBUTES = f"""{{
  NAME "printer status"
  OPERATION Get-Printer-Attributes
{_OPERATION_GROUP}\
  ATTR keyword requested-attributes {",".join(STATUS_ATTRIBUTES)}
{_OK}}}
"""

# $title and $filename come from `ipptool -d title=... -f FILE`: expanded after parsing, so a
# title with spaces or quotes cannot break the request.
PRINT_JOB = f"""{{
  NAME "print a PDF"
  OPERATION Print-Job
{_OPERATION_GROUP}\
  ATTR name job-name $title
  ATTR mimeMediaType document-format application/pdf
  FILE $filename
{_OK}}}
"""

GET_JOB_ATTRIBUTES = f"""{{
  NAME "job status"
  OPERATION Get-Job-Attributes
{_OPERATION_GROUP}\
  ATTR integer job-id $job_id
  ATTR keyword requested-attributes job-id,job-state,job-state-reasons,job-state-message
{_OK}}}
"""


class IppPrinter(Device):
    """An IPP Everywhere printer (`ipp://host:631/ipp/print`) or a CUPS queue."""

    kind = "printer"

    def __init__(self, cfg: IppSettings) -> None:
        super().__init__(cfg)
        self.uri: str = cfg.uri
        self.timeout: float = cfg.timeout

    def poll(self) -> Reading:
        attrs = self.request(GET_PRINTER_ATTRIBUTES)
        return reading_from_attributes(attrs, self.cfg.toner_low_percent)

    def print_pdf(self, path: Path, title: str) -> int:
        """Send a PDF as one job; returns the printer's job id (see `job_state`)."""
        path = Path(path)
        check_pdf(path)
        extra = path.stat().st_size / 50_000  # a slow printer on Wi-Fi takes ~50 kB/s
        attrs = self.request(PRINT_JOB, {"title": job_title(title)}, file=path,
                             extra_seconds=extra)
        job_id = attrs.get("job-id")
        if not isinstance(job_id, int):
            raise DeviceError(f"printer at {self.uri} accepted the job but gave no job id",
                              vi="Máy in đã nhận lệnh in nhưng không trả về số lệnh in.")
        return job_id

    def job_state(self, job_id: int) -> str:
        """pending, held, processing, stopped, canceled, aborted or completed."""
        attrs = self.request(GET_JOB_ATTRIBUTES, {"job_id": str(int(job_id))}, job_id=job_id)
        return job_state_name(attrs.get("job-state"))

    # ------------------------------------------------------------ ipptool

    def request(self, test: str, variables: Mapping[str, str] | None = None, *,
                file: Path | None = None, extra_seconds: float = 0.0,
                job_id: int | None = None) -> dict[str, Any]:
        """Run one ipptool request; the response attributes, all groups merged."""
        with tempfile.TemporaryDirectory(prefix="edge-ipp-") as tmp:
            test_file = Path(tmp) / "request.test"
            test_file.write_text(test, encoding="utf-8")
            cmd = self._command(test_file, variables or {}, file)
            proc = self._run(cmd, self.timeout * 3 + 5 + extra_seconds)
        answer = self._parse(proc)
        return self._attributes(answer, job_id)

    def _command(self, test_file: Path, variables: Mapping[str, str],
                 file: Path | None) -> list[str]:
        cmd = [IPPTOOL, "-X", "-T", f"{self.timeout:g}"]
        for key, value in variables.items():
            cmd += ["-d", f"{key}={value}"]
        if file is not None:
            cmd += ["-f", str(file)]
        return [*cmd, self.uri, str(test_file)]

    def _run(self, cmd: list[str], deadline: float) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL,
                                  timeout=deadline, check=False)
        except FileNotFoundError:
            raise DeviceError("ipptool is not installed, so printers cannot be read",
                              vi="Thiếu chương trình ipptool nên không đọc được máy in.",
                              hint="sudo apt install cups-ipp-utils") from None
        except subprocess.TimeoutExpired:
            raise self._absent(f"no answer within {deadline:g} s") from None

    def _parse(self, proc: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        try:
            answer = plistlib.loads(proc.stdout)
        except (plistlib.InvalidFileException, ExpatError, ValueError):
            raise DeviceError(f"ipptool gave no readable answer for {self.uri}: "
                              f"{stderr or 'empty output'}",
                              vi="Không đọc được trả lời của máy in.") from None
        if not isinstance(answer, dict):
            raise DeviceError(f"ipptool gave an unexpected answer for {self.uri}",
                              vi="Không đọc được trả lời của máy in.")
        if not answer.get("Tests"):  # could not even connect
            raise self._absent(str(answer.get("ErrorMessage") or stderr or "no connection"))
        test: dict[str, Any] = answer["Tests"][0]
        return test

    def _attributes(self, test: Mapping[str, Any], job_id: int | None) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for group in test.get("ResponseAttributes") or []:
            attrs.update(group)
        status = str(test.get("StatusCode") or "")
        if not attrs:  # connected, but no answer before -T ran out
            raise self._absent(f"connected, but no answer within {self.timeout:g} s")
        if not status.startswith("successful-ok"):
            raise self._status_error(status or "no status", str(attrs.get("status-message", "")),
                                     job_id)
        return attrs

    def _absent(self, why: str) -> DeviceAbsent:
        return DeviceAbsent(
            f"printer not answering at {self.uri}: check its power and network cable ({why})",
            vi="Máy in không phản hồi. Hãy kiểm tra máy in đã bật và dây mạng (hoặc cáp USB) "
               "đã cắm chắc.")

    def _status_error(self, status: str, message: str, job_id: int | None) -> DeviceError:
        said = f"{status}: {message}" if message else status
        if status == "client-error-not-found" and job_id is not None:
            return DeviceError(f"printer at {self.uri} does not know job {job_id} ({said})",
                               vi=f"Máy in không còn lệnh in số {job_id}.")
        if status == "client-error-not-found":
            return DeviceError(f"no printer at {self.uri} ({said})",
                               vi="Không có máy in ở địa chỉ đã cấu hình. Hãy kiểm tra lại địa "
                                  "chỉ máy in.",
                               hint="use ipp://HOST:631/ipp/print, or ipp://localhost:631/"
                                    "printers/NAME for a CUPS queue")
        if status == "client-error-document-format-not-supported":
            return DeviceError(f"printer at {self.uri} does not accept PDF ({said})",
                               vi="Máy in không nhận tệp PDF. Hãy in qua hàng đợi CUPS.",
                               hint="add the printer to CUPS and use ipp://localhost:631/"
                                    "printers/NAME, which converts PDF for it")
        if status == "server-error-not-accepting-jobs":
            return DeviceError(f"printer at {self.uri} is not accepting jobs ({said})",
                               vi="Máy in đang không nhận lệnh in. Hãy kiểm tra màn hình máy "
                                  "in hoặc bật lại hàng đợi trong CUPS.")
        if status in ("client-error-not-authorized", "client-error-forbidden",
                      "client-error-not-authenticated"):
            return DeviceError(f"printer at {self.uri} refused the request ({said})",
                               vi="Máy in từ chối yêu cầu (cần quyền truy cập).",
                               hint="allow printing without a password for this kit")
        return DeviceError(f"printer at {self.uri} answered {said}",
                           vi=f"Máy in báo lỗi: {said}.")
