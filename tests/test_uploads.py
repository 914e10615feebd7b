"""Hostile uploads (issue 14, "Bad input and hostile files"): bounded before they are parsed.

A 205 KB xlsx that inflates to hundreds of MB (a zip bomb in sharedStrings.xml), a sheet whose
dimension reaches column XFD, a file over the size cap, and a parse that never ends: each is
refused by the data import, the booking-sheet import and the script check alike, with a
friendly message, before the expensive work. The permission check comes before the download.
"""
from __future__ import annotations

import io
import threading
import tracemalloc
import zipfile

import pytest
from aiohttp import web

from bot import uploads
from bot.compliance.extract import ExtractError, extract_lines
from bot.data import files, parse
from bot.feishu.platform import Platform
from bot.schedule import importer as sheets
from tests.sim_helpers import serve

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                 'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                 '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
                 'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                 'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.'
                 'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                 '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
           '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
           'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
           'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
           '</Relationships>')
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def package(sheet_rows: str, *, dimension: str = "A1:B2", shared: int = 0, extra: dict[str, str] | None = None) -> bytes:
    """A minimal xlsx; ``shared`` repeats a shared string that many times (a zip bomb when large)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
                   f'<dimension ref="{dimension}"/><sheetData>{sheet_rows}</sheetData></worksheet>')
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{shared + 1}">'
                       f'<si><t>日期</t></si>'.encode())
            chunk = b"<si><t>x</t></si>" * 65536
            for _ in range(shared // 65536):
                part.write(chunk)
            part.write(b"</sst>")
        for name, text in (extra or {}).items():
            z.writestr(name, text)
    return buf.getvalue()


def bomb() -> bytes:
    """About 205 KB that inflates to 89 MB of shared strings: five million of them, which openpyxl
    would load before the first row (gigabytes of memory, tens of seconds)."""
    return package('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=5 * 1024 * 1024)


def wide_sheet(rows: int = 3000) -> bytes:
    """A sheet whose dimension (and every row) reaches column XFD, the last of 16,384."""
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="XFD{r}"><v>1</v></c></row>' for r in range(1, rows + 1))
    return package(body, dimension=f"A1:XFD{rows}")


def docx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b"<w:document>")
            for _ in range(200):
                part.write(b"<w:p/>" * 200_000)
            part.write(b"</w:document>")
    return buf.getvalue()


@pytest.fixture(scope="module")
def the_bomb() -> bytes:
    return bomb()


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
    except Exception:  # noqa: BLE001 - the caller checks what was raised separately
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def test_a_zip_bomb_is_refused_from_its_directory(the_bomb):
    assert len(the_bomb) < 256 * 1024
    with zipfile.ZipFile(io.BytesIO(the_bomb)) as z:
        assert sum(i.file_size for i in z.infolist()) > 80 * 1024 * 1024
    with pytest.raises(uploads.Refused) as err:
        uploads.check_package(the_bomb, "罗盘.xlsx")
    assert "压缩炸弹" in err.value.zh and "zip bomb" in err.value.en
    # every reader refuses it before inflating anything: memory stays small
    with pytest.raises(parse.ParseError) as perr:
        parse.read_tables(the_bomb, "罗盘.xlsx")
    assert "压缩炸弹" in perr.value.zh
    assert peak_mb(lambda: parse.read_tables(the_bomb, "罗盘.xlsx")) < 20
    with pytest.raises(uploads.Refused):
        sheets.read_file("排期.xlsx", the_bomb)
    assert peak_mb(lambda: sheets.read_file("排期.xlsx", the_bomb)) < 20
    with pytest.raises(ExtractError) as eerr:
        extract_lines(the_bomb, "脚本.xlsx")
    assert "压缩炸弹" in eerr.value.zh
    with pytest.raises(ExtractError) as derr:
        extract_lines(docx_bomb(), "脚本.docx")
    assert "解压后" in derr.value.zh or "压缩炸弹" in derr.value.zh


def test_too_many_parts_and_doctype_are_refused():
    many = package('<row r="1"/>', extra={f"xl/media/x{i}.xml": "<a/>" for i in range(uploads.MAX_ENTRIES)})
    with pytest.raises(uploads.Refused) as err:
        uploads.check_package(many, "m.xlsx")
    assert "部件" in err.value.zh
    laughs = package('<row r="1"/>', extra={"xl/evil.xml": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                                                           "<lolz>&lol;</lolz>"})
    with pytest.raises(uploads.Refused) as err:
        uploads.check_package(laughs, "e.xlsx")
    assert "DOCTYPE" in err.value.zh


def test_a_sheet_reaching_column_xfd_is_read_to_the_column_cap():
    data = wide_sheet()
    widths = [len(cells) for _, rows in files.sources(data, "wide.xlsx") for _, cells in rows]
    assert len(widths) == 3000 and max(widths) <= uploads.MAX_COLUMNS
    assert peak_mb(lambda: sheets.read_file("排期.xlsx", data)) < 40
    sheet = sheets.read_file("排期.xlsx", data)
    assert all(len(c) <= uploads.MAX_COLUMNS for _, c in sheet.rows)
    labels = [line.label for line in extract_lines(data, "脚本.xlsx")]
    assert labels[:2] == ["Sheet1!A1", "Sheet1!A2"] and not any("XFD" in x for x in labels)


async def test_parsing_runs_in_a_worker_thread_with_a_time_budget():
    loop_thread = threading.get_ident()
    assert await uploads.run_bounded(threading.get_ident, name="x.csv") != loop_thread

    def forever() -> None:
        while True:
            uploads.tick()

    with pytest.raises(uploads.TooSlow) as err:
        await uploads.run_bounded(forever, name="慢.xlsx", budget=0.2)
    assert "「慢.xlsx」读取超时" in err.value.zh and "took too long" in err.value.en


async def test_download_stops_at_the_cap():
    sent = {"bytes": 0}

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"code": 0, "tenant_access_token": "t-1", "expire": 7200})

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        try:
            for _ in range(100_000):  # 6.5 GB if nobody stops reading
                await resp.write(b"x" * 65536)
                sent["bytes"] += 65536
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"y" * (600 * 1024), content_type="application/octet-stream")

    app = web.Application()
    app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", token)
    app.router.add_get("/open-apis/im/v1/messages/om_1/resources/file_big", endless)
    app.router.add_get("/open-apis/im/v1/messages/om_1/resources/file_declared", declared)
    runner, base = await serve(app)
    platform = Platform(base, "cli_x", "secret")
    try:
        with pytest.raises(uploads.DownloadTooLarge) as err:
            await platform.download("om_1", "file_big", max_bytes=512 * 1024)
        assert err.value.key == "upload.too_large" and err.value.values == {"limit": "0 MB"}
        assert sent["bytes"] < 64 * 1024 * 1024  # stopped long before the end
        with pytest.raises(uploads.DownloadTooLarge):
            await platform.download("om_1", "file_declared", max_bytes=512 * 1024)
        assert await platform.download("om_1", "file_declared", max_bytes=1024 * 1024) == b"y" * (600 * 1024)
    finally:
        await platform.close()
        await runner.cleanup()


@pytest.fixture
async def ops_team(harness):
    from tests.test_schedule_service import seed_team

    async with harness.db.session() as s:
        await seed_team(s, harness.clock.now())
    return harness


async def test_hostile_uploads_get_a_friendly_answer_and_the_bot_carries_on(ops_team, the_bomb):
    h = ops_team
    team = h.chats["team"]
    await h.sim.upload_file(team, h.users["ops"], "罗盘数据.xlsx", the_bomb)
    await h.settle()
    text = h.text_of(h.last_reply())
    assert "压缩炸弹" in text and "Traceback" not in text
    await h.sim.upload_file(team, h.users["ops"], "脚本.docx", docx_bomb())
    await h.settle()
    assert "解压后" in h.text_of(h.last_reply()) or "压缩炸弹" in h.text_of(h.last_reply())
    await h.sim.upload_file(team, h.users["ops"], "大文件.csv", b"a,b\n" * (uploads.MAX_DOWNLOAD // 4 + 1))
    await h.settle()
    assert "文件太大（超过 20 MB）" in h.text_of(h.last_reply())
    await h.say("member", "/在吗")
    assert "在的" in h.text_of(h.last_reply())


async def test_who_may_import_is_asked_before_the_download(ops_team):
    h = ops_team
    team = h.chats["team"]
    await h.sim.upload_file(team, h.users["member"], "罗盘数据.csv", "直播间,成交金额\n1号直播间,1\n".encode())
    await h.settle()
    assert "「导入直播数据」需要运营权限" in h.text_of(h.last_reply())
    await h.sim.upload_file(team, h.users["member"], "下周排期.csv", "日期,时间,直播间\n11/30,19:00-23:00,1号直播间\n".encode())
    await h.settle()
    assert "「导入排期」需要运营权限" in h.text_of(h.last_reply())
    before = len(h.bot_messages())
    await h.sim.upload_file(team, h.users["member"], "随手记.csv", b"a,b\n1,2\n")
    await h.settle()
    assert len(h.bot_messages()) == before  # not theirs to import, not ours to read
    assert h.sim.requests("/resources/") == []  # nothing was downloaded for someone who may not import
    await h.sim.upload_file(team, h.users["ops"], "随手记.csv", b"a,b\n1,2\n")
    await h.settle()
    assert len(h.sim.requests("/resources/")) == 1  # ops: read once, shared by the file handlers


async def test_a_download_refreshes_an_expired_token_and_tries_once_more(harness):
    """99991663 (token invalid/expired, 通用错误码) on a resource download: a new token, one retry."""
    h = harness
    msg = await h.sim.upload_file(h.chats["team"], h.users["ops"], "notes.txt", b"hello")
    await h.settle()
    h.sim.faults.add("token_expired", path_contains="/resources/", times=1)
    assert await h.bot.platform.download(msg["message_id"], msg["content"]["file_key"]) == b"hello"
    h.sim.faults.add("token_expired", path_contains="/resources/", times=2)
    assert await h.bot.platform.download(msg["message_id"], msg["content"]["file_key"]) is None
