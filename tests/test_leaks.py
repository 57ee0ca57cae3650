"""Issue 11, "nothing leaks, nothing freezes": each attack of a hostile but legitimate tester,
through the real CLI (a `bulletin-qa` subprocess), the real page (gradio_client) or the real
files on a real (tmpfs / read-only bind) filesystem.  docs/figures.md, "Reliability" has a row per test.

* symlinks to files outside corpus/ are not read (item 1);
* adversarial Markdown is read in linear time, and any one file has a time limit (item 2);
* a .docx that inflates to 1 GB is refused by its declared sizes, a small one by its
  compression ratio, a PDF Flate bomb is skipped; the reading runs in a worker process with a
  memory limit; peak memory of `bulletin-qa index` over the 1 GB bomb is measured (item 3);
* a full disk (a 64 MB tmpfs in a private mount namespace, `unshare -rm`) and a read-only
  index folder (a read-only bind mount) give one line, exit 1, nothing left behind (items 4, 5);
* an orphan version (a build killed between its folder's rename and CURRENT's) never costs
  the live version (item 8);
* UTF-16 without a byte-order mark, and a file mixing UTF-8 and GBK lines (item 10);
* the page's API: bad `k` / `sources`, /add_document then /delete, "From scratch" keeps dates
  (items 9, 10, 11).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.conftest import cli_cmd, run_cli

ROOT = Path(__file__).resolve().parent.parent
SEED = sorted((ROOT / "corpus").glob("*.txt"))[0]
GIB = 1024 ** 3


pytestmark = pytest.mark.usefixtures("drop_indexes")


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def manifest(index: Path) -> dict:
    return json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())


@pytest.fixture(scope="module")
def one_seed(tmp_path_factory, embedder):
    """(corpus, index): one seed bulletin, indexed (copied by each test that changes it)."""
    from tests.conftest import build_index

    base = tmp_path_factory.mktemp("leaks")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    build_index(corpus, base / "index", embedder)
    return corpus, base / "index"


@pytest.fixture
def copy(one_seed, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(one_seed[0], corpus)
    shutil.copytree(one_seed[1], index)
    return corpus, index


# --------------------------------------------------------------------------- 1. symlinks


def test_symlinks_to_files_outside_the_corpus_are_not_read(copy, tmp_path):
    corpus, index = copy
    secret = tmp_path / "secret.txt"  # outside corpus/, like /etc/passwd
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n机密文件：社会工作绝密名单。\n", encoding="utf-8")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "secret.md").symlink_to(secret)
    (corpus / "linked_dir").symlink_to(tmp_path, target_is_directory=True)  # folders: never followed
    (corpus / "alias.txt").symlink_to(corpus / SEED.name)  # a link inside the corpus is still read
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    for name in ("passwd.txt", "sub/secret.md"):
        assert f"skipped {name}: its real path is outside the corpus folder" in r.stderr, r.stderr
    files = manifest(index)["files"]
    assert set(files) == {SEED.name, "alias.txt"}, files
    from qa import search  # the CLI built it; searched here, which saves a process start per question

    for q in ("root bin bash nologin", "机密文件 绝密名单"):
        for p in search(q, mode="lexical", index=index):
            assert "root:x:0:0" not in p.text and "绝密" not in p.text, p


# --------------------------------------------------------------------------- 2. Markdown, time limit

ADVERSARIAL_MD = {"emphasis.md": "__a " * 43_750, "links.md": "[a " * 58_334}  # 175 KB each


def test_adversarial_markdown_is_read_in_linear_time(copy):
    """175 KB of "__a " / "[a " took hours with the old patterns (4 s at 20k characters, 13 s at
    40k): now each is read in a fraction of a second, and a build of the same patterns goes through."""
    from qa.ingest.read import read_document

    corpus, index = copy
    for name, text in ADVERSARIAL_MD.items():
        (corpus / name).write_text(text + "\n\n社会工作专业人才队伍建设。\n", encoding="utf-8")
        read_document(corpus / name)  # a warm worker
        t = time.perf_counter()
        doc = read_document(corpus / name)
        seconds = time.perf_counter() - t
        print(f"{name}: {len((corpus / name).read_bytes()):,} bytes read in {seconds:.3f} s")
        assert seconds < 3, seconds  # the acceptance: well under a second (0.1-0.2 s measured)
        assert "社会工作专业人才队伍建设" in doc.text
        assert "__" not in doc.text if name == "emphasis.md" else "[a [a" in doc.text  # unmatched: literal text
        # the build indexes the first 5k characters: the timed read above is the linear-time
        # check; embedding 175 KB of "__a" costs most of a minute of the suite and says nothing
        # more about reading than that the build takes such a file
        (corpus / name).write_text(text[:5_000] + "\n\n社会工作专业人才队伍建设。\n", encoding="utf-8")
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr[-2000:]
    assert set(ADVERSARIAL_MD) <= set(manifest(index)["files"])


def test_a_file_that_reads_too_long_is_skipped_and_named(copy):
    """BULLETIN_QA_READ_SECONDS bounds each file: a 3 MB Markdown file of one-character lines (about
    ten seconds of parsing) under a 1 s limit is skipped and named; the build goes on."""
    corpus, index = copy
    (corpus / "slow.md").write_text("a\n" * 1_500_000, encoding="utf-8")
    (corpus / "quick.txt").write_text("青海西宁市建成社区社工站四十个。\n", encoding="utf-8")
    t = time.monotonic()
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", str(index),
                env={"BULLETIN_QA_READ_SECONDS": "1"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "skipped slow.md: slow.md: reading it took longer than the 1 s limit" in r.stderr, r.stderr
    assert set(manifest(index)["files"]) == {SEED.name, "quick.txt"}
    print(f"build with a timed-out file: {time.monotonic() - t:.1f} s")


# --------------------------------------------------------------------------- 3. bombs


def _docx_template(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("模板")
    d.save(str(path))


def make_docx_bomb(path: Path, inflated: int, compresslevel: int = 1) -> Path:
    """A valid .docx whose word/document.xml inflates to ``inflated`` bytes (written streaming;
    level 1 by default: 6 MB for 1 GiB in half the time of level 6's 3.7 MB)."""
    tpl = path.with_suffix(".tpl.docx")
    _docx_template(tpl)
    para = "<w:p><w:r><w:t>社会工作专业人才队伍建设稳步推进。</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(tpl) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                       compresslevel=compresslevel) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "word/document.xml":
                dst.writestr(info, data)
                continue
            xml = data.decode("utf-8")
            head, tail = xml.split("<w:body>", 1)[0] + "<w:body>", "</w:body></w:document>"
            block = para * (1024 * 1024 // len(para))
            with dst.open("word/document.xml", "w", force_zip64=True) as f:
                f.write(head.encode())
                written = len(head)
                while written + len(block) + len(tail) < inflated:
                    f.write(block)
                    written += len(block)
                f.write(tail.encode())
    tpl.unlink()
    return path


def peak_rss_mb(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI in a fresh Python that reports the peak resident memory of its children
    (the CLI and the reader worker: ru_maxrss of RUSAGE_CHILDREN is the largest of them)."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", code, *cli_cmd(*args)], cwd=ROOT, capture_output=True, text=True,
                       timeout=900, env=os.environ | (env or {}))
    return r, int(r.stderr.strip().splitlines()[-1]) / 1024


def test_docx_inflating_to_1_gb_is_refused_by_name_and_memory_stays_under_1_gb(copy, tmp_path):
    corpus, _ = copy
    index = tmp_path / "fresh_index"  # no embedding cache: both models load, the worst case
    bomb = make_docx_bomb(corpus / "bomb.docx", GIB)
    small = make_docx_bomb(corpus / "small_bomb.docx", 8 * 1024 * 1024, compresslevel=9)
    print(f"bomb.docx: {bomb.stat().st_size:,} bytes -> 1 GiB; small_bomb.docx: {small.stat().st_size:,} -> 8 MiB")
    r, peak = peak_rss_mb("index", "-q", "--corpus", str(corpus), "--index", str(index))
    print(f"peak RSS of `bulletin-qa index` (largest process; a first build) over the 1 GiB docx: {peak:.0f} MB")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "skipped bomb.docx: bomb.docx: word/document.xml declares 1,07" in r.stderr, r.stderr
    assert "DOCX_MAX_PART_BYTES" in r.stderr
    assert "skipped small_bomb.docx: small_bomb.docx: word/document.xml inflates" in r.stderr
    assert "DOCX_MAX_RATIO" in r.stderr
    assert set(manifest(index)["files"]) == {SEED.name}
    assert peak < 1024, peak


def test_reading_is_memory_bounded_in_a_worker(copy):
    """A file whose reading needs more memory than the worker may use is skipped and named,
    and the build (in its own process) goes on: the limit is RLIMIT_AS of the worker."""
    corpus, index = copy
    (corpus / "huge.txt").write_text("社会工作专业人才队伍建设稳步推进，" * 600_000, encoding="utf-8")  # 27 MB
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", str(index),
                env={"BULLETIN_QA_READ_MEMORY_MB": "300"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "huge.txt: reading it needs more than the 300 MB memory limit" in r.stderr, r.stderr
    assert set(manifest(index)["files"]) == {SEED.name}


def make_pdf_flate_bomb(path: Path, inflated: int) -> Path:
    """A one-page PDF whose content stream inflates to ``inflated`` bytes of text operators
    (deflate level 1: 5.7 MB for 1 GiB, made in half the time of level 9's 3.1 MB)."""
    op = b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n"
    chunk = op * (1024 * 1024 // len(op))
    z = zlib.compressobj(1)
    parts, n = [], 0
    while n < inflated:
        parts.append(z.compress(chunk))
        n += len(chunk)
    parts.append(z.flush())
    stream = b"".join(parts)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_pdf_flate_bomb_is_skipped(copy):
    corpus, index = copy
    make_pdf_flate_bomb(corpus / "bomb.pdf", GIB)
    r, peak = peak_rss_mb("index", "-q", "--corpus", str(corpus), "--index", str(index))
    print(f"bomb.pdf: {(corpus / 'bomb.pdf').stat().st_size:,} bytes -> 1 GiB; peak RSS {peak:.0f} MB")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "skipped bomb.pdf" in r.stderr
    assert set(manifest(index)["files"]) == {SEED.name}
    # a PDF may need OCR, so its reading worker gets the OCR memory limit (BULLETIN_QA_OCR_MEMORY_MB,
    # 2,560 MB): a PDF bomb is bounded by that, not by the 1,024 MB of other files
    from qa.settings import Settings

    assert peak < Settings().ocr_memory_mb + 256, peak


# --------------------------------------------------------------------------- 4, 5. full disk, read-only


def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_unshare = pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -rm` (user + mount namespaces)")

FULL_DISK = r"""
import json, os, subprocess, sys
mnt, corpus, src, cli = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt], check=True)
index = os.path.join(mnt, "index")
subprocess.run(["cp", "-a", src, index], check=True)
st = os.statvfs(mnt)
with open(os.path.join(mnt, "filler"), "wb") as f:  # the disk is full but for 48 KB
    f.write(b"\0" * (st.f_bavail * st.f_frsize - 48 * 1024))
out = {"live": open(os.path.join(index, "CURRENT")).read()}
def cmd(*a):
    r = subprocess.run(cli + list(a), capture_output=True, text=True)
    return {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
out["full"] = cmd("index", "-q", "--corpus", corpus, "--index", index)
out["after_full"] = sorted(os.listdir(index))
out["live_after_full"] = open(os.path.join(index, "CURRENT")).read()
out["search"] = cmd("search", "社会工作", "-k", "1", "--json", "--index", index)
os.unlink(os.path.join(mnt, "filler"))  # space again
out["again"] = cmd("index", "-q", "--corpus", corpus, "--index", index)
out["after_again"] = sorted(os.listdir(index))
out["found"] = cmd("search", "西宁 社工站", "-k", "1", "--mode", "lexical", "--json", "--index", index)
print(json.dumps(out))
"""


@needs_unshare
def test_disk_full_one_line_nothing_left_next_run_succeeds(copy, tmp_path):
    corpus, index = copy
    (corpus / "xining.txt").write_text("新增一份简报：青海西宁市建成社区社工站四十个。\n", encoding="utf-8")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK, encoding="utf-8")
    r = subprocess.run(["unshare", "-rm", sys.executable, str(script), str(mnt), str(corpus), str(index),
                        json.dumps(cli_cmd())], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    full = out["full"]
    assert full["rc"] == 1, full
    lines = full["err"].strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in full["err"], full["err"]
    assert lines[0].startswith("error: no space left on tmpfs (mounted at ") and "while writing" in lines[0]
    assert lines[0].endswith("the live index is unchanged (free some space and run `bulletin-qa index` again)")
    assert not [n for n in out["after_full"] if n.startswith((".tmp-", ".CURRENT."))], out["after_full"]
    assert [n for n in out["after_full"] if n.startswith("v-")] == [out["live"]]
    assert out["live_after_full"] == out["live"]
    assert out["search"]["rc"] == 0 and json.loads(out["search"]["out"])["passages"]
    again = out["again"]
    assert again["rc"] == 0 and "Traceback" not in again["err"], again
    assert json.loads(out["found"]["out"])["passages"][0]["source"] == "xining.txt"


READ_ONLY = r"""
import json, subprocess, sys
index, corpus, cli = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
subprocess.run(["mount", "--bind", index, index], check=True)
subprocess.run(["mount", "-o", "remount,bind,ro", index], check=True)
def cmd(*a):
    r = subprocess.run(cli + list(a), capture_output=True, text=True)
    return {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
print(json.dumps({"index": cmd("index", "-q", "--corpus", corpus, "--index", index),
                  "search": cmd("search", "社会工作", "-k", "1", "--json", "--index", index)}))
"""


@needs_unshare
def test_read_only_index_folder_one_line_and_search_works(copy, tmp_path):
    corpus, index = copy
    script = tmp_path / "read_only.py"
    script.write_text(READ_ONLY, encoding="utf-8")
    before = sorted(p.name for p in index.iterdir())
    r = subprocess.run(["unshare", "-rm", sys.executable, str(script), str(index), str(corpus),
                        json.dumps(cli_cmd())], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    lines = out["index"]["err"].strip().splitlines()
    assert out["index"]["rc"] == 1 and len(lines) == 1 and "Traceback" not in out["index"]["err"], out["index"]
    assert lines[0].startswith(f"error: the index folder {index} is on a read-only filesystem"), lines[0]
    assert "searches still work" in lines[0]
    assert out["search"]["rc"] == 0 and json.loads(out["search"]["out"])["passages"]
    assert sorted(p.name for p in index.iterdir()) == before


# --------------------------------------------------------------------------- 8. orphan versions


def test_orphan_version_never_costs_the_live_one(copy):
    """A build killed between its folder's rename and CURRENT's leaves a complete orphan
    (newer than the live version).  The next build keeps the version that was live (readers
    may hold it) and removes the orphan; before, it removed the live one and kept the orphan."""
    corpus, index = copy
    live = (index / "CURRENT").read_text().strip()
    orphan = index / "v-29991231-235959-1-000001"
    shutil.copytree(index / live, orphan)
    os.utime(orphan)  # newest of all
    (corpus / "xining.txt").write_text("青海西宁市建成社区社工站四十个。\n", encoding="utf-8")
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr[-2000:]
    new = (index / "CURRENT").read_text().strip()
    versions = sorted(p.name for p in index.glob("v-*"))
    assert new != live and (index / live).is_dir() and not orphan.exists(), versions
    assert versions == sorted([live, new])


# --------------------------------------------------------------------------- 10. encodings


def test_utf16_without_bom_and_mixed_utf8_gbk_lines_are_read(copy):
    corpus, index = copy
    (corpus / "utf16le.txt").write_bytes("乌鲁木齐市培育社会工作服务机构三十家。\n第二行。\n".encode("utf-16-le"))
    (corpus / "utf16be.txt").write_bytes("拉萨市新建社工站十二个。\nLhasa opened 12 stations.\n".encode("utf-16-be"))
    mixed = ("呼和浩特市开展社会工作督导培训。\n".encode("utf-8")
             + "包头市社工站覆盖全部苏木乡镇。\n".encode("gbk")
             + b"\xff\xfe\xfd\xfc broken line\n"
             + "鄂尔多斯市持证社工增至九百人。\n".encode("utf-8"))
    (corpus / "mixed.txt").write_bytes(mixed)
    r = run_cli("index", "-q", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "skipped" not in r.stderr, r.stderr
    assert "read mixed.txt in part: undecodable lines: 3" in r.stderr, r.stderr
    from qa import search

    files = manifest(index)["files"]
    assert {"utf16le.txt", "utf16be.txt", "mixed.txt"} <= set(files)
    assert files["utf16le.txt"]["encoding"] == "utf-16-le" and files["utf16be.txt"]["encoding"] == "utf-16-be"
    for q, src, needle in [("乌鲁木齐 社会工作服务机构", "utf16le.txt", "三十家"), ("拉萨 社工站", "utf16be.txt", "十二个"),
                           ("包头 苏木乡镇", "mixed.txt", "包头市"), ("鄂尔多斯 持证社工", "mixed.txt", "九百人")]:
        hits = search(q, k=3, mode="lexical", index=index)  # in this process: one process start less per question
        assert any(h.source == src and needle in h.text for h in hits), (q, hits)


# --------------------------------------------------------------------------- the page: 9, 10, 11


@pytest.fixture(scope="module")
def page(tmp_path_factory, seed_index):
    from gradio_client import Client

    from tests.conftest import serve_seed_copy

    demo, url, corpus, index, base = serve_seed_copy(tmp_path_factory, seed_index, "leaks_page")
    try:
        yield Client(url, verbose=False), url, corpus, index
    finally:
        demo.close()


@pytest.mark.parametrize("k,sources,what", [
    (5, "notalist", "sources must be a list"),
    (5, [1, 2], "sources must be a list"),
    (2.5, None, "k must be an integer"),
    (True, None, "k must be an integer"),
    ("5", None, "k must be an integer"),
])
def test_bad_search_arguments_are_clear_errors(page, k, sources, what):
    from gradio_client.exceptions import AppError

    client = page[0]
    with pytest.raises(AppError, match=what):
        client.predict("社会工作", k, "hybrid", sources, api_name="/search")


def test_add_document_then_delete_as_the_readme_says(page):
    import base64

    client, _url, corpus, _index = page
    text = "新增简报：银川市社会工作服务中心揭牌。\n".encode("utf-8")
    res = client.predict("yinchuan.txt", base64.b64encode(text).decode(), api_name="/add_document")
    assert res["saved"], res
    res = client.predict("yinchuan.txt", api_name="/delete")  # added after the session started
    assert res["deleted"] and not (corpus / "yinchuan.txt").exists(), res
    res = client.predict("../index/CURRENT", api_name="/delete")
    assert not res["deleted"] and "not a file of the corpus" in res["message"]
    res = client.predict("yinchuan.txt", api_name="/delete")
    assert not res["deleted"]


def test_rebuild_from_scratch_keeps_dates_and_says_what_it_does(page):
    import urllib.request

    client, url, _corpus, _index = page
    before = {d["file"]: d["added"] for d in client.predict(api_name="/documents")}
    assert before and all(before.values())
    time.sleep(1.1)  # a new date would differ by the second
    msg, *_ = client.predict(True, api_name="/rebuild")
    assert msg.startswith("✓ index rebuilt"), msg
    after = {d["file"]: d["added"] for d in client.predict(api_name="/documents")}
    assert after == before
    config = urllib.request.urlopen(url + "config", timeout=60).read().decode("utf-8")
    assert "re-embed every file" not in config and "vectors already computed are reused" in config


# --------------------------------------------------------------------------- 7. live arrays truncated


def test_live_arrays_truncated_while_the_page_serves_do_not_kill_it(seed_index, tmp_path):
    """The page (its own process: python app.py) has loaded the live version; someone truncates
    its vectors.npy and e5_sentences.npy.  Memory-mapped, the next search touching them died of
    SIGBUS; read into memory (qa.index.folder.IN_MEMORY_BYTES), the page keeps answering."""
    from tests.conftest import free_port, page_client, stop_page

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(seed_index[0], corpus)
    shutil.copytree(seed_index[1], index)
    port = free_port()
    log = open(tmp_path / "page.log", "wb")
    page = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(corpus),
                             "--index", str(index)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        client = page_client(page, port, tmp_path / "page.log", seconds=120)
        first = client.predict("社会工作专业人才", 5, "hybrid", None, api_name="/search")
        assert first
        live = index / (index / "CURRENT").read_text().strip()
        for name in ("vectors.npy", "e5_sentences.npy"):
            with open(live / name, "r+b") as f:
                f.truncate(128)
        sources = sorted({h["source"] for h in first})
        for q, src in [("社会工作专业人才", None), ("民政 社工站 建设", sources), ("持证社会工作者", None)]:
            hits = client.predict(q, 5, "hybrid", src, api_name="/search")
            assert hits and page.poll() is None
    finally:
        stop_page(page, log)
    assert page.returncode in (0, -15, 1), page.returncode  # ended by our SIGTERM, not by SIGBUS (-7)
