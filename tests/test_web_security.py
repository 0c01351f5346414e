"""``aidisclose serve`` refuses whoever is not the person who started it, and every path outside its root.

A real server in its own process, plain HTTP requests with exactly the headers another local page, a
DNS-rebinding page or a curious script would send.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from aidisclose.web.forms import check_data, form_data, record_form
from aidisclose.web.paths import OutsideRoot, confined, safe_upload_name
from aidisclose.web.tomlwriter import record_toml

from .conftest import EXAMPLE_RECORD, FIXTURES
from .webserver import Served, request, serving

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("web")
    root = base / "root"
    root.mkdir()
    (base / "secret.txt").write_text("outside the root\n")
    (base / "outside").mkdir()
    (base / "outside" / "photo.jpg").write_bytes((FIXTURES / "images" / "photo.jpg").read_bytes())
    shutil.copy(FIXTURES / "images" / "photo.jpg", root / "photo.jpg")
    shutil.copy(EXAMPLE_RECORD, root / "record.toml")
    (root / "link-to-secret.txt").symlink_to(base / "secret.txt")
    (root / "linked-folder").symlink_to(base / "outside")
    with serving(root, "--max-upload-mb", "1") as server:
        yield server


@pytest.fixture(scope="module")
def cookie(served: Served) -> str:
    return served.cookie()


def _host(served: Served) -> str:
    return f"127.0.0.1:{served.port}"


def _get(served: Served, path: str, cookie: str | None, **headers: str) -> int:
    given = {"Host": _host(served), **({"Cookie": cookie} if cookie else {}), **headers}
    return request(served, "GET", path, headers=given).status


def _post(served: Served, path: str, cookie: str, fields: dict[str, str], **headers: str) -> int:
    body = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode()
    given = {"Host": _host(served), "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", **headers}
    return request(served, "POST", path, body, given).status


def _csrf(served: Served, cookie: str) -> str:
    page = request(served, "GET", "/record", headers={"Host": _host(served), "Cookie": cookie}).body
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_a_request_without_the_token_is_refused(served: Served) -> None:
    assert _get(served, "/record", None) == 403
    assert _get(served, "/record?token=not-the-token", None) == 403
    assert _get(served, "/record", "aidisclose_session=not-the-token") == 403
    assert _get(served, "/static/htmx.min.js", None) == 403


def test_the_token_in_the_url_becomes_an_httponly_strict_cookie(served: Served) -> None:
    answer = request(served, "GET", f"/inspect?token={served.token}&path=photo.jpg", headers={"Host": _host(served)})
    assert answer.status == 303
    assert answer.getheader("location") == "/inspect?path=photo.jpg", "the token must not stay in the address bar"
    cookie = answer.getheader("set-cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert _get(served, "/inspect?path=photo.jpg", cookie.split(";")[0]) == 200


def test_a_foreign_host_is_refused_even_with_the_cookie(served: Served, cookie: str) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name, which the browser sends as Host.
    assert _get(served, "/record", cookie, Host=f"attacker.example:{served.port}") == 421
    assert _get(served, "/record", cookie, Host="127.0.0.1:1") == 421
    assert _get(served, "/record", cookie) == 200


def test_a_foreign_origin_is_refused(served: Served, cookie: str) -> None:
    csrf = _csrf(served, cookie)
    fields = {"csrf": csrf, "title": "x"}
    assert _post(served, "/record/preview", cookie, fields, Origin="http://attacker.example") == 403
    assert (
        _post(served, "/record/preview", cookie, fields, Origin=f"http://localhost.attacker.example:{served.port}")
        == 403
    )
    assert _get(served, "/record", cookie, **{"Sec-Fetch-Site": "cross-site"}) == 403
    assert _post(served, "/record/preview", cookie, fields, Origin=f"http://127.0.0.1:{served.port}") == 200


_AS_CLIENT = (
    "import http.client, sys\n"
    "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=30)\n"
    "try:\n"
    "    c.request('GET', '/', headers={'Cookie': sys.argv[2]})\n"
    "    print(c.getresponse().status)\n"
    "except (ConnectionError, http.client.RemoteDisconnected):\n"
    "    print('closed')\n"
)


def _status_as(user: int | None, served: Served, cookie: str) -> str:
    """A plain request with the session cookie, made by a process of ``user`` (None: ours)."""
    done = subprocess.run(
        ["/usr/bin/python3", "-c", _AS_CLIENT, str(served.port), cookie],
        user=user, cwd="/", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.stdout.strip() or done.stderr


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/proc/net/tcp").exists(), reason="connecting as another user needs root on Linux"
)
def test_another_local_user_is_refused_even_with_the_cookie(served: Served, cookie: str) -> None:
    # A browser sends the cookie to every port of 127.0.0.1, so a page another user serves there can learn it.
    assert _status_as(None, served, cookie) == "200"
    assert _status_as(65534, served, cookie) in ("403", "closed")


_HALF_A_REQUEST = (
    "import socket, sys\n"
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
    "s.sendall(b'GET / HTTP/1.1\\r\\n')\n"  # and never the rest
    "s.settimeout(20)\n"
    "try:\n"
    "    print('closed' if s.recv(100) == b'' else 'answered')\n"
    "except (TimeoutError, ConnectionResetError) as e:\n"
    "    print(type(e).__name__)\n"
)


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/proc/net/tcp").exists(), reason="connecting as another user needs root on Linux"
)
def test_another_local_users_connection_is_closed_before_its_request_is_read(served: Served) -> None:
    done = subprocess.run(
        ["/usr/bin/python3", "-c", _HALF_A_REQUEST, str(served.port)],
        user=65534, cwd="/", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.stdout.strip() in ("closed", "ConnectionResetError"), done.stdout + done.stderr


def test_a_form_without_its_csrf_token_is_refused(served: Served, cookie: str) -> None:
    assert _post(served, "/record/preview", cookie, {"title": "x"}) == 403
    assert _post(served, "/record/save", cookie, {"csrf": "0" * 64, "__save_as": "x.toml"}) == 403
    assert not (served.root / "x.toml").exists()
    assert _post(served, "/record/preview", cookie, {"title": "x", "csrf": _csrf(served, cookie)}) == 200


@pytest.mark.parametrize(
    "path",
    [
        "/inspect?path=../secret.txt",
        "/inspect?path=" + quote("/etc/passwd"),
        "/inspect?path=linked-folder/photo.jpg",
        "/download?path=link-to-secret.txt",
        "/download?path=..%2Fsecret.txt",
        "/download?path=" + quote("sub/../../secret.txt"),
        "/record?load=link-to-secret.txt",
        "/record?from=linked-folder/photo.jpg",
    ],
    ids=["dotdot", "absolute", "symlinked-folder", "symlinked-file", "encoded-dotdot", "dotdot-inside", "load", "from"],
)
def test_a_path_outside_the_root_is_refused(served: Served, cookie: str, path: str) -> None:
    answer = request(served, "GET", path, headers={"Host": _host(served), "Cookie": cookie})
    assert answer.status == 403, answer.body
    assert answer.body.startswith("refused"), answer.body


def test_a_path_inside_the_root_is_served(served: Served, cookie: str) -> None:
    (served.root / "signoffs").mkdir()
    try:
        (served.root / "signoffs" / "signoff-test.json").write_text("{}\n")
        assert _get(served, "/download?path=signoffs/signoff-test.json", cookie) == 200
    finally:
        shutil.rmtree(served.root / "signoffs")  # the module's other tests expect no sign-off yet
    assert _get(served, "/inspect?path=photo.jpg", cookie) == 200


def test_only_signoff_documents_are_downloaded(served: Served, cookie: str) -> None:
    (served.root / "keys").mkdir(exist_ok=True)
    (served.root / "keys" / "signing.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    for path in ("keys/signing.key", "record.toml", "signoffs", "signoffs/../keys/signing.key"):
        answer = request(
            served, "GET", "/download?path=" + quote(path), headers={"Host": _host(served), "Cookie": cookie}
        )
        assert answer.status == 403, (path, answer.status)
        assert "PRIVATE KEY" not in answer.body


def _multipart(name: str, content: bytes, csrf: str) -> tuple[bytes, str]:
    boundary = "----aidisclose-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_upload_lands_in_incoming_under_a_safe_name(served: Served, cookie: str) -> None:
    body, kind = _multipart("../../evil name\u202e.jpg", b"\xff\xd8not really a jpeg", _csrf(served, cookie))
    answer = request(
        served, "POST", "/stamp/upload", body, {"Host": _host(served), "Cookie": cookie, "Content-Type": kind}
    )
    assert answer.status == 200, answer.body
    assert [p.name for p in (served.root / "incoming").iterdir()] == ["evil_name.jpg"]
    assert not (served.root.parent / "evil name\u202e.jpg").exists()


def test_an_upload_over_the_limit_is_refused(served: Served, cookie: str) -> None:
    body, kind = _multipart("big.wav", b"\0" * (1 << 20) + b"more", _csrf(served, cookie))
    answer = request(
        served, "POST", "/stamp/upload", body, {"Host": _host(served), "Cookie": cookie, "Content-Type": kind}
    )
    assert answer.status == 413
    assert not (served.root / "incoming" / "big.wav").exists()


def test_every_answer_forbids_framing_and_outside_scripts(served: Served, cookie: str) -> None:
    answer = request(served, "GET", "/record", headers={"Host": _host(served), "Cookie": cookie})
    policy = answer.getheader("content-security-policy")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.getheader("x-frame-options") == "DENY"
    linked = re.findall(r'(?:src|href|action)="([^"]*)"', answer.body)
    assert linked and all(url.startswith(("/", "#")) for url in linked), "nothing may come from the network"


# -- the library parts, without a server ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative", ["../x", "/etc/passwd", "a/../../x", "~/x", "a\\..\\x", "a\x00b", "link-out/x", "link-out"]
)
def test_confined_refuses_paths_that_leave_the_root(tmp_path: Path, relative: str) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link-out").symlink_to(tmp_path)
    with pytest.raises(OutsideRoot):
        confined((tmp_path / "root").resolve(), relative)


def test_confined_keeps_paths_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "inner").mkdir()
    (root / "link-in").symlink_to(root / "inner")
    assert confined(root, "inner/a.jpg") == root / "inner" / "a.jpg"
    assert confined(root, "link-in/a.jpg") == root / "inner" / "a.jpg"
    assert confined(root, "") == root


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../a.jpg", "a.jpg"),
        ("C:\\x\\b.png", "b.png"),
        (".hidden", "hidden"),
        ("", "upload"),
        ("é\u202e.wav", "e.wav"),
    ],
)
def test_upload_names_are_made_safe(given: str, kept: str) -> None:
    assert safe_upload_name(given) == kept


def test_the_record_written_as_toml_reads_back_as_the_same_record(tmp_path: Path) -> None:
    from aidisclose.record import load_record

    record = load_record(EXAMPLE_RECORD)
    written = tmp_path / "again.toml"
    written.write_text(record_toml(record))
    assert load_record(written) == record


def test_saving_through_a_toml_named_symlink_never_writes_over_what_it_points_to(tmp_path: Path) -> None:
    from aidisclose.record import load_record
    from aidisclose.web.app import _save

    root = tmp_path.resolve()
    picture = root / "precious.jpg"
    picture.write_bytes((FIXTURES / "images" / "photo.jpg").read_bytes())
    (root / "notes.toml").symlink_to("precious.jpg")
    message, ok = _save(confined(root, "notes.toml"), load_record(EXAMPLE_RECORD), True, root)
    assert not ok and "not saved" in message
    assert picture.read_bytes() == (FIXTURES / "images" / "photo.jpg").read_bytes()


def test_the_form_shows_the_reason_stamp_gives_beside_the_field() -> None:
    fields = record_form()
    checked = check_data(
        form_data(
            fields,
            {
                "title": "Shot 010",
                "generated_at": "2026-10-01",
                "ai_systems.0.__item": "1",
                "ai_systems.0.version": "4",
            },
        )
    )
    assert checked.record is None
    assert checked.problems["generated_at"] == ["needs a date, a time and a UTC offset, e.g. 2026-10-01T10:00:00Z"]
    assert "ai_systems.0.name" in checked.problems
    fixed = check_data(form_data(fields, {"title": "Shot 010", "generated_at": "2026-10-01T10:00:00Z"}))
    assert fixed.record is not None and fixed.problems == {}


def test_values_from_a_file_are_shown_as_text(served: Served, cookie: str) -> None:
    import aidisclose
    from aidisclose.record import DisclosureRecord

    hostile = DisclosureRecord(title='<script>alert("x")</script>', asset_id="<img src=x onerror=alert(1)>")
    aidisclose.stamp(FIXTURES / "images" / "overlay.png", hostile, output_dir=served.root / "hostile")
    page = request(
        served, "GET", "/inspect?path=hostile/overlay.png", headers={"Host": _host(served), "Cookie": cookie}
    ).body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def test_ctrl_c_stops_the_server_cleanly(tmp_path: Path) -> None:
    import signal

    with serving(tmp_path) as server:
        assert request(server, "GET", "/", headers={"Host": f"127.0.0.1:{server.port}"}).status == 403
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=30) == 0
    assert "aidisclose: stopped\n" in server.said


def test_ctrl_c_during_a_stamp_finishes_the_file_being_written_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    import signal

    count = 120
    (tmp_path / "in").mkdir()
    for number in range(count):
        shutil.copy(FIXTURES / "images" / "photo.jpg", tmp_path / "in" / f"p{number}.jpg")
    shutil.copy(EXAMPLE_RECORD, tmp_path / "record.toml")
    with serving(tmp_path) as server:
        cookie = server.cookie()
        fields = "&".join(f"file=in/p{number}.jpg" for number in range(count))
        body = f"csrf={_csrf(server, cookie)}&{fields}&record=record.toml&output=out".encode()
        headers = {"Host": _host(server), "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        answer = request(server, "POST", "/stamp/run", body, headers)
        assert re.search(r"/stamp/run/[0-9a-f]+", answer.body), answer.body  # under way
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=120) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    assert not [name for name in written if name.startswith(".")], written  # no temporary file left behind
    if len(written) < count:  # stopped between two files, and told
        assert any("stamp run(s) stopped after the file being written" in line for line in server.said), server.said


def test_another_address_needs_host_and_is_warned_about(tmp_path: Path) -> None:
    with serving(tmp_path, "--host", "127.0.0.2") as server:
        said = "".join(server.said)
        assert "warning: listening on 127.0.0.2, not only on this computer" in said
        assert f"open http://127.0.0.2:{server.port}/?token=" in said


def test_a_hostile_record_file_loads_into_the_editor_with_its_problems(served: Served, cookie: str) -> None:
    (served.root / "hostile.toml").write_text(
        'title = "</textarea><script>alert(1)</script>"\nwake_up = 07:32:00\nai_used = "yes"\n'
        '[[ai_systems]]\nversion = "1"\n',
        encoding="utf-8",
    )
    answer = request(served, "GET", "/record?load=hostile.toml", headers={"Host": _host(served), "Cookie": cookie})
    assert answer.status == 200
    assert "<script>alert" not in answer.body and "&lt;/textarea&gt;&lt;script&gt;" in answer.body
    assert "wake_up: unknown field" in answer.body
    assert "must be true or false, not &#39;yes&#39;" in answer.body
    assert 'id="err-ai_systems-0-name" role="alert">Field required' in answer.body


def test_every_field_of_the_record_has_an_input_in_the_editor() -> None:
    from aidisclose.record import DisclosureRecord
    from aidisclose.web.forms import FormField

    def names(fields: tuple[FormField, ...], prefix: str = "") -> set[str]:
        found = set()
        for f in fields:
            found.add(prefix + f.name)
            found |= names(f.children, f"{prefix}{f.name}.")
        return found

    shown = names(record_form())
    schema = DisclosureRecord.model_json_schema()
    assert {n for n in schema["properties"] if n != "schema_version"} <= shown
    assert {"human_review.status", "likeness.consent.granted_by", "ai_systems.name"} <= shown


def test_file_names_that_could_spoof_or_break_a_page_are_shown_safely(served: Served, cookie: str) -> None:
    (served.root / "names").mkdir()
    os.close(os.open(os.fsencode(served.root / "names") + b"/not-utf8-\xff.jpg", os.O_CREAT | os.O_WRONLY, 0o644))
    (served.root / "names" / "shot\u202egnp.jpg").write_bytes(b"")
    answer = request(served, "GET", "/stamp", headers={"Host": _host(served), "Cookie": cookie})
    assert answer.status == 200
    assert "names/shot\\u202egnp.jpg</label>" in answer.body, "a bidi control is shown, never obeyed"
    assert "not-utf8" not in answer.body


def test_a_failing_file_cannot_be_approved_whatever_the_page_sends(served: Served, cookie: str) -> None:
    csrf = _csrf(served, cookie)
    (served.root / "unstamped").mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "images" / "photo.jpg", served.root / "unstamped" / "photo.jpg")
    started = request(
        served, "POST", "/review/run", f"csrf={csrf}&folder=unstamped&policy=genai-production".encode(),
        {"Host": _host(served), "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert started.status == 303
    review = started.getheader("location")
    page = request(served, "GET", review, headers={"Host": _host(served), "Cookie": cookie}).body
    assert "FAIL" in page and 'name="pick"' not in page, "a failing file offers no box to tick"
    fields = {"csrf": csrf, "pick": "0", "reviewer": "R. Lead"}
    answer = request(
        served, "POST", f"{review}/approve", "&".join(f"{k}={quote(v)}" for k, v in fields.items()).encode(),
        {"Host": _host(served), "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert answer.status == 200
    assert "only files that pass can be approved" in answer.body
    assert not (served.root / "signoffs").exists()


def test_a_port_in_use_is_one_line_and_exit_2(served: Served, tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import ROOT

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "aidisclose", "serve", "--root", str(tmp_path), "--port", str(served.port)],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"aidisclose: error: 127.0.0.1:{served.port}: cannot listen there")
    assert len(done.stderr.strip().splitlines()) == 1
