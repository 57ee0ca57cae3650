"""The question page in a real browser: Debian chromium, headless, through selenium and
/usr/bin/chromedriver.  Saves docs/screenshot.png."""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import serve_seed_copy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else shutil.which("chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="needs Debian chromium + chromedriver (apt-get install chromium chromium-driver)"),
]

QUESTION = "甘肃酒泉 certified-worker goal"
XSS_BULLETIN = """阿勒泰社工站简报

阿勒泰市社工站开展“银龄互助”服务，<script>window.__xss = 1</script>本月走访独居老人213户。
社工站同时组织邻里互助小组<img src=x onerror="window.__xss = 2">，每周活动两次，参与居民达到600人次。
（据阿勒泰市民政局）
"""



@pytest.fixture(scope="module")
def page_url(tmp_path_factory, seed_index):
    from gradio_client import Client

    demo, url, *_ = serve_seed_copy(tmp_path_factory, seed_index, "browser")
    # a bulletin carrying markup, uploaded and indexed through the app's own API
    client = Client(url, verbose=False)
    r = client.predict("altay.txt", base64.b64encode(XSS_BULLETIN.encode()).decode(), api_name="/add_document")
    assert r["saved"], r
    msg, *_ = client.predict(False, api_name="/rebuild")
    assert msg.startswith("✓"), msg
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1800", "--lang=zh-CN"):
        opts.add_argument(flag)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


def ask(driver, url: str, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wait = WebDriverWait(driver, 120)
    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea, #question input")))
    box.clear()
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-answer"))
    return wait


def test_ask_with_enter_shows_marked_answer(page_url, driver):
    from selenium.webdriver.common.by import By

    wait = ask(driver, page_url, QUESTION)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cards .qa-card mark"))
    answer = driver.find_element(By.CSS_SELECTOR, "#answer .qa-answer")
    assert "[1]" in answer.text and "酒泉" in answer.text
    cards = driver.find_elements(By.CSS_SELECTOR, "#cards .qa-card")
    assert len(cards) == 5
    lang = driver.execute_script("return navigator.language")  # the page follows it (issue 13)
    if lang.startswith("zh"):
        assert "行" in cards[0].text and "得分" in cards[0].text
    else:
        assert "lines" in cards[0].text and "score" in cards[0].text
    # open the first card's full article
    summary = cards[0].find_element(By.CSS_SELECTOR, "details summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    assert cards[0].find_element(By.CSS_SELECTOR, "details .qa-article").is_displayed()
    # (README's screenshot is now taken by test_example_click_answers_in_chinese_with_screenshot)


def test_markup_in_query_and_documents_is_shown_not_run(page_url, driver):
    from selenium.webdriver.common.by import By

    query = "阿勒泰 独居老人 走访多少户 <script>window.__xss = 3</script>"
    wait = ask(driver, page_url, query)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cards .qa-card"))
    assert driver.execute_script("return window.__xss === undefined")
    answer = driver.find_element(By.CSS_SELECTOR, "#answer .qa-answer")
    assert "<script>window.__xss = 3</script>" in answer.text  # shown as text
    cards = driver.find_element(By.CSS_SELECTOR, "#cards")
    assert "altay.txt" in cards.text
    assert "<script>window.__xss = 1</script>" in cards.text or 'onerror="window.__xss = 2"' in cards.text
    assert not driver.find_elements(By.CSS_SELECTOR, "#cards script, #answer script, #cards img, #answer img")
    time.sleep(1)
    assert driver.execute_script("return window.__xss === undefined")


# --------------------------------------------------------------------------- with the user's model (issue 14)


@pytest.fixture(scope="module")
def llm_page_url(tmp_path_factory, seed_index):
    """The page with a model configured: the tests' own OpenAI-compatible server on 127.0.0.1
    (tests/fake_llm.py), streaming slowly enough to be seen, answering one sentence from passage
    [1] and one with a made-up figure."""
    from qa.generate.llm import LLMSettings
    from tests.fake_llm import FakeLLM

    server = FakeLLM(chunk_delay=0.05).start()
    demo, url, *_ = serve_seed_copy(tmp_path_factory, seed_index, "browser-llm",
                                    llm=LLMSettings(server.url, "fake-mixed", timeout=20))
    try:
        yield url, server
    finally:
        demo.close()
        server.close()


def test_model_answer_streams_above_the_cards_and_marks_the_unsupported_sentence(llm_page_url, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    url, server = llm_page_url
    driver.get(url)
    wait = WebDriverWait(driver, 120)
    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea, #question input")))
    # every state the answer area passes through, recorded in the page as it changes
    driver.execute_script("""
        window.__states = [];
        new MutationObserver(() => {
            const a = document.querySelector('#answer .qa-llm');
            if (a) window.__states.push([a.classList.contains('qa-llm-writing'),
                                         a.querySelectorAll('.qa-ok').length, a.textContent]);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});""")
    box.clear()
    box.send_keys("酒泉 持证上岗社会工作者 总数达到多少")
    box.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-llm del.qa-unsupported")
               and not d.find_elements(By.CSS_SELECTOR, "#answer .qa-llm-writing"))
    answer = driver.find_element(By.CSS_SELECTOR, "#answer .qa-llm")
    assert "fake-mixed" in answer.text and "800名以上" in answer.text
    struck = answer.find_element(By.CSS_SELECTOR, "del.qa-unsupported")
    assert "9999" in struck.text
    assert struck.value_of_css_property("text-decoration-line") == "line-through"
    assert "failed the check" in answer.find_element(By.CSS_SELECTOR, ".qa-warn").text  # (navigator: en-US)
    link = answer.find_element(By.CSS_SELECTOR, ".qa-ok a.qa-cite")
    assert link.text == "[1]" and link.get_attribute("href").endswith("#qa-card-1")
    assert driver.find_elements(By.CSS_SELECTOR, "#cards #qa-card-1")  # the card it links to
    states = driver.execute_script("return window.__states")
    assert any(writing for writing, _ok, _t in states), "the answer never showed while being written"
    assert any(writing and ok >= 1 for writing, ok, _t in states), "no sentence appeared before the end"
    assert all("9999" not in text or "failed the check" in text for _w, _ok, text in states)
    assert len(server.chat_requests()) == 1


def test_model_answer_area_is_chinese_under_a_chinese_browser(llm_page_url, zh_desktop):
    """The same streamed answer in a zh-CN browser: the labels, the check's reasons and the notes
    around the model's sentences are Chinese (qa/app/web/i18n.py), no English of ours is left."""
    from selenium.webdriver.common.by import By

    url, _server = llm_page_url
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, "酒泉 持证上岗社会工作者 总数达到多少")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-llm del.qa-unsupported")
               and not d.find_elements(By.CSS_SELECTOR, "#answer .qa-llm-writing"))
    answer = zh_desktop.find_element(By.CSS_SELECTOR, "#answer .qa-llm")
    warn = answer.find_element(By.CSS_SELECTOR, ".qa-warn").text
    assert "未通过核对" in warn and "所引段落 [1] 中没有" in warn and "9999" in warn
    assert "由 fake-mixed 根据下面的段落撰写" in answer.text and "问题：" in answer.text
    assert "模型回答中有 1 句未通过核对" in answer.find_element(By.CSS_SELECTOR, ".qa-note").text
    assert "第121" in answer.text or "行）" in answer.text  # the citations under it, Chinese style
    english = [w for w in english_of_ours() + ["failed the check", "Written by", "not in the cited", "struck through"]
               if w in answer.text]
    assert not english, english


# --------------------------------------------------------------------------- issue 13: the readers' page

DESKTOP, PHONE = (1400, 1000), (390, 844)


def browser(lang: str, size: tuple[int, int]):
    """Chromium as the ``driver`` fixture starts it, with the browser's language set both ways a
    page can read it (navigator.language follows the intl.accept_languages preference); a phone's
    390 px, narrower than a headless window can be, is emulated through the DevTools protocol."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    width, height = size
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", f"--window-size={max(width, 500)},{height}", f"--lang={lang}"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    if width < 500:
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    d.qa_profile = profile
    return d


def close(d):
    try:
        d.quit()
    finally:
        shutil.rmtree(d.qa_profile, ignore_errors=True)


@pytest.fixture(scope="module")
def reader_page(tmp_path_factory, seed_index):
    """(url, corpus): the page over its own copy of the seeds (these tests add and delete files)."""
    demo, url, corpus, _index, _base = serve_seed_copy(tmp_path_factory, seed_index, "browser-readers")
    try:
        yield url, corpus
    finally:
        demo.close()


@pytest.fixture(scope="module")
def zh_desktop():
    d = browser("zh-CN", DESKTOP)
    try:
        yield d
    finally:
        close(d)


def open_page(d, url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from selenium.common.exceptions import StaleElementReferenceException

    d.get(url)
    # an element found while Gradio redraws the component holding it goes stale: look again
    wait = WebDriverWait(d, 120, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea, #question input")))
    # the page has read the browser's language (its load event), which the server then notes
    wait.until(lambda d: d.execute_script(
        "const b = document.querySelector('#qa-lang textarea, #qa-lang input'); return b && b.value"))
    time.sleep(1)
    return wait


def ask_here(d, wait, question):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = d.find_element(By.CSS_SELECTOR, "#question textarea, #question input")
    box.clear()
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cards .qa-card"))


def card_regions(d) -> list[str]:
    """The 地区 line of each answer card, read in one script run: the cards are re-rendered while a
    question re-runs, and element handles held across several calls can go stale in between."""
    return d.execute_script("""
        return [...document.querySelectorAll('#cards .qa-card')].map(card => {
          const items = [...card.querySelectorAll('.qa-about-item')].map(e => e.innerText.trim());
          return items.find(t => t.startsWith('地区')) || '';
        });""")


def pick(d, elem_id: str, label: str):
    """Choose ``label`` in a Gradio dropdown, as a user does: click, type, click the option."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = d.find_element(By.CSS_SELECTOR, f"#{elem_id} input")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    box.send_keys(label)

    def option(d):
        found = [li for li in d.find_elements(By.CSS_SELECTOR, "ul.options li, [role=option]")
                 if li.is_displayed() and li.text.strip() == label]
        return found[0] if found else None

    WebDriverWait(d, 30).until(option).click()


def test_labels_are_chinese_under_zh_and_english_under_en(reader_page, zh_desktop):
    from selenium.webdriver.common.by import By

    url, _corpus = reader_page
    open_page(zh_desktop, url)
    tabs = [t.text for t in zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")]
    assert tabs == ["提问", "文档"]
    assert zh_desktop.find_element(By.CSS_SELECTOR, "#ask").text == "提问"
    assert "问题" in zh_desktop.find_element(By.CSS_SELECTOR, "#question").text
    assert "社会工作简报问答" in zh_desktop.find_element(By.CSS_SELECTOR, ".qa-header").text
    strict = zh_desktop.find_element(By.CSS_SELECTOR, "#strictness").text
    assert all(w in strict for w in ("严格程度", "宽松", "标准", "严格")), strict
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    assert "搜索简报" in zh_desktop.find_element(By.CSS_SELECTOR, "#doc-search").text
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[0].click()
    en = browser("en-US", DESKTOP)
    try:
        wait = open_page(en, url)
        assert [t.text for t in en.find_elements(By.CSS_SELECTOR, "button[role=tab]")] == ["Ask", "Documents"]
        assert en.find_element(By.CSS_SELECTOR, "#ask").text == "Ask"
        assert "Question" in en.find_element(By.CSS_SELECTOR, "#question").text
        assert all(w in en.find_element(By.CSS_SELECTOR, "#strictness").text for w in ("lenient", "normal", "strict"))
        ask_here(en, wait, QUESTION)
        assert "score" in en.find_element(By.CSS_SELECTOR, "#cards .qa-card").text
        assert "Copy citation" in en.find_element(By.CSS_SELECTOR, "#cards .qa-card").text
    finally:
        close(en)


def test_example_click_answers_in_chinese_with_screenshot(reader_page, zh_desktop):
    from selenium.webdriver.common.by import By

    url, corpus = reader_page
    wait = open_page(zh_desktop, url)
    example = next(b for b in zh_desktop.find_elements(By.CSS_SELECTOR, "#examples button")
                   if b.text.strip() == QUESTION)
    example.click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-answer") and
               d.find_elements(By.CSS_SELECTOR, "#cards .qa-card mark"))
    answer = zh_desktop.find_element(By.CSS_SELECTOR, "#answer .qa-answer")
    assert "[1]" in answer.text and "酒泉" in answer.text and "问题：" in answer.text
    card = zh_desktop.find_element(By.CSS_SELECTOR, "#cards .qa-card")
    for word in ("地区", "甘肃省酒泉市", "发布机构", "酒泉市委社会工作部", "得分", "复制引用", "打开原文件"):
        assert word in card.text, word
    assert "湖北多措并举" not in card.text  # its page prints no masthead: no other article is its bulletin
    assert "如何阅读卡片" in zh_desktop.find_element(By.CSS_SELECTOR, "#cards").text  # what a score means
    assert zh_desktop.find_element(By.CSS_SELECTOR, "#export-csv").is_displayed()
    check_original_link(zh_desktop, url, corpus, card)
    zh_desktop.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)
    out = ROOT / "docs" / "screenshot.png"
    out.parent.mkdir(exist_ok=True)
    assert zh_desktop.save_screenshot(str(out))
    assert out.stat().st_size > 20000


def check_original_link(d, url, corpus, card):
    """The card's "open the original" link: relative to the page, naming the file only; opened in
    the browser it shows the file, and fetched it returns the file's bytes; no server path of the
    corpus, the index or the project is anywhere in the page's HTML."""
    import urllib.request

    from selenium.webdriver.common.by import By

    link = card.find_element(By.CSS_SELECTOR, "a.qa-open")
    assert link.get_attribute("href").startswith(url + "original/")
    href = d.execute_script("return arguments[0].getAttribute('href')", link)
    assert href.split("?")[0] == "original/003_41b0a890d9bd57ab.txt" and "lines=" in href  # the viewer, at its lines
    with urllib.request.urlopen(url + "original/003_41b0a890d9bd57ab.txt", timeout=30) as r:
        assert r.read() == (corpus / "003_41b0a890d9bd57ab.txt").read_bytes()
    html = d.page_source
    for path in {str(corpus), str(corpus.resolve()), str(corpus.parent), str(ROOT)}:
        assert path not in html, path
    assert "gradio_api/file=/" not in html.split('id="qa-export"')[0]  # the cards and answer: no file= path
    cited, opened = open_link_in_tab(d, link, lambda d: "酒泉" in d.find_element(By.TAG_NAME, "body").text
                                     and len(d.find_elements(By.CSS_SELECTOR, "tr.cited")))
    assert opened == url + href
    assert cited  # the viewer: numbered lines, the cited ones marked


def test_phone_question_full_width_answer_in_view_documents_reflow(reader_page):
    from selenium.webdriver.common.by import By

    url, _corpus = reader_page
    d = browser("zh-CN", PHONE)
    try:
        wait = open_page(d, url)
        assert d.execute_script("return window.innerWidth") == PHONE[0]
        q, row = d.execute_script(
            "return [document.querySelector('#question').getBoundingClientRect().width,"
            " document.querySelector('#qa-ask-row').getBoundingClientRect().width]")
        assert q >= 0.95 * row and q >= 300, (q, row)
        ask_here(d, wait, QUESTION)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-answer"))
        time.sleep(1)  # the scroll that follows the answer
        top, bottom, height = d.execute_script(
            "const r = document.querySelector('#answer .qa-answer').getBoundingClientRect();"
            " return [r.top, r.bottom, window.innerHeight]")
        assert 0 <= top < height - 40, (top, height)
        out = ROOT / "docs" / "screenshot-phone.png"
        assert d.save_screenshot(str(out))
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        d.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#documents table.qa-docs").is_displayed())
        scroll, client = d.execute_script(
            "const t = document.querySelector('#documents'); return [t.scrollWidth, t.clientWidth]")
        assert scroll <= client + 1, (scroll, client)
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    finally:
        close(d)


def test_region_filter_narrows_and_reruns(reader_page, zh_desktop):
    from selenium.webdriver.support.ui import WebDriverWait

    url, _corpus = reader_page
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, "社会工作专业人才 2025年 目标")
    before = card_regions(zh_desktop)
    assert len(set(before)) >= 2, before
    pick(zh_desktop, "regions", "甘肃省")  # the filter alone re-runs the question
    WebDriverWait(zh_desktop, 60).until(lambda d: card_regions(d) and all("甘肃" in r for r in card_regions(d)))
    assert len(card_regions(zh_desktop)) >= 1


def test_copy_button_puts_the_citation_on_the_clipboard(reader_page, zh_desktop):
    from selenium.webdriver.common.by import By

    url, _corpus = reader_page
    wait = open_page(zh_desktop, url)
    zh_desktop.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    ask_here(zh_desktop, wait, QUESTION)
    button = zh_desktop.find_element(By.CSS_SELECTOR, "#cards .qa-card .qa-copy")
    citation = button.get_attribute("data-citation")
    assert citation.startswith("甘肃酒泉：") and "003_41b0a890d9bd57ab.txt，第" in citation
    assert "酒泉市委社会工作部" in citation and "湖北多措并举" not in citation  # its issuer, no other article
    zh_desktop.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait.until(lambda d: "已复制" in button.text)
    copied = zh_desktop.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('error: ' + e));")
    assert copied == citation


def test_rebuild_shows_one_progress_bar_following_the_stages(reader_page, zh_desktop):
    from gradio_client import Client
    from selenium.webdriver.common.by import By

    url, _corpus = reader_page
    r = Client(url, verbose=False).predict("kashgar.txt", base64.b64encode(
        "喀什启动社区社工站项目\n\n2024年3月5日，喀什市民政局印发通知，启动社区社工站项目，"
        "到2026年底前全市建成126个社区社工站。\n（据喀什市民政局）\n".encode()).decode(), api_name="/add_document")
    assert r["saved"], r
    wait = open_page(zh_desktop, url)
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    # every change of the page is looked at (a MutationObserver, not a timer that may miss a short stage)
    zh_desktop.execute_script("""
        window.__bars = 0; window.__texts = new Set();
        const look = () => {
          const shown = [...document.querySelectorAll('.wrap.generating, .wrap.pending, .wrap.translucent')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0);
          window.__bars = Math.max(window.__bars, shown.length);
          shown.forEach(e => window.__texts.add(e.textContent.replace(/\\s+/g, ' ').trim()));
        };
        window.__probe = new MutationObserver(look);
        window.__probe.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});""")
    zh_desktop.find_element(By.CSS_SELECTOR, "#rebuild").click()
    wait.until(lambda d: "✓" in d.find_element(By.CSS_SELECTOR, "#build-msg").text)
    bars = zh_desktop.execute_script("window.__probe.disconnect(); return window.__bars")
    texts = " | ".join(zh_desktop.execute_script("return [...window.__texts]"))
    assert bars == 1, (bars, texts)
    assert "读取文件" in texts and ("向量化" in texts or "建立词语索引" in texts or "写入索引" in texts), texts
    msg = zh_desktop.find_element(By.CSS_SELECTOR, "#build-msg").text
    assert msg.strip().startswith("✓ 索引已重建") and "6 个文件" in msg
    table = zh_desktop.find_element(By.CSS_SELECTOR, "#documents").text
    assert "kashgar.txt" in table and "新疆维吾尔自治区喀什地区喀什市" in table


def test_delete_asks_first_and_names_stay_text(reader_page, zh_desktop):
    from gradio_client import Client
    from selenium.webdriver.common.by import By

    url, corpus = reader_page
    name = "__bold__ [link](x).txt"  # Markdown, were it rendered as Markdown
    r = Client(url, verbose=False).predict(name, base64.b64encode(
        "银川推进社工站建设\n\n银川市民政局印发方案，全市建成社工站58个。\n（据银川市民政局）\n".encode()).decode(),
        api_name="/add_document")
    assert r["saved"], r
    wait = open_page(zh_desktop, url)
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    wait.until(lambda d: name in d.find_element(By.CSS_SELECTOR, "#documents").text)  # as text
    pick(zh_desktop, "to-delete", name)
    zh_desktop.find_element(By.CSS_SELECTOR, "#delete").click()
    wait.until(lambda d: any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, "#confirm-delete")))
    assert name in zh_desktop.find_element(By.CSS_SELECTOR, "#confirm-msg").text
    time.sleep(0.5)
    assert (corpus / name).exists()  # asked, not deleted
    zh_desktop.find_element(By.CSS_SELECTOR, "#cancel-delete").click()
    wait.until(lambda d: not any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, "#confirm-delete")))
    assert (corpus / name).exists()
    zh_desktop.find_element(By.CSS_SELECTOR, "#delete").click()
    wait.until(lambda d: any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, "#confirm-delete")))
    zh_desktop.find_element(By.CSS_SELECTOR, "#confirm-delete-btn").click()
    wait.until(lambda d: "已删除" in d.find_element(By.CSS_SELECTOR, "#upload-msg").text)
    assert not (corpus / name).exists()
    assert name in zh_desktop.find_element(By.CSS_SELECTOR, "#upload-msg").text


def english_of_ours() -> list[str]:
    """Every English text of the page's tables (qa/app/web/i18n.py) that differs from its Chinese."""
    from qa.app.web import i18n

    ui = i18n.ui_translations(".txt", "5 MB")
    out = [en for key, en in ui["en"].items() if en != ui["zh-CN"][key]]
    out += [en for en, zh in i18n.TEXT.values() if isinstance(en, str) and en != zh]
    return [e for e in out if len(e) >= 6 and "{" not in e and "<" not in e]


def test_no_english_of_ours_under_a_chinese_browser(reader_page, zh_desktop):
    """After a search, with the documents tab open too: none of the page's English texts shows."""
    from selenium.webdriver.common.by import By

    url, _corpus = reader_page
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, QUESTION)
    ask_text = zh_desktop.find_element(By.TAG_NAME, "body").text
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#documents table.qa-docs").is_displayed())
    docs_text = zh_desktop.find_element(By.TAG_NAME, "body").text
    shown = [e for e in english_of_ours() if e in ask_text or e in docs_text]
    assert not shown, shown
    assert "得分" in ask_text and "简报与文章" in docs_text


def test_documents_search_filters_and_lists_articles(reader_page, zh_desktop):
    from selenium.webdriver.common.by import By

    url, _corpus = reader_page
    wait = open_page(zh_desktop, url)
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#documents table.qa-docs").is_displayed())

    def visible_files(d):
        return [r.find_element(By.CSS_SELECTOR, ".qa-filename").text
                for r in d.find_elements(By.CSS_SELECTOR, "#documents tr.qa-doc-row") if r.is_displayed()]

    everything = visible_files(zh_desktop)
    assert len(everything) >= 5
    box = zh_desktop.find_element(By.CSS_SELECTOR, "#doc-search textarea, #doc-search input")
    box.send_keys("酒泉")  # an article title and a region, inside one bulletin
    wait.until(lambda d: visible_files(d) == ["003_41b0a890d9bd57ab.txt"])
    row = zh_desktop.find_element(By.CSS_SELECTOR, "#documents tr.qa-doc-row:not([style*='none'])")
    details = row.find_element(By.CSS_SELECTOR, "details.qa-doc-articles")
    assert details.get_attribute("open") is not None  # the matching article list opens
    items = details.find_elements(By.CSS_SELECTOR, "li")
    assert len(items) >= 3
    hit = next(li for li in items if "酒泉" in li.text)
    assert "qa-art-match" in hit.get_attribute("class")
    assert "甘肃省酒泉市" in hit.text and "行" in hit.text  # title, region, line range
    box.clear()
    box.send_keys("002_")  # a file name
    wait.until(lambda d: len(visible_files(d)) == 1 and visible_files(d)[0].startswith("002_"))
    box.clear()
    box.send_keys("苏州")
    wait.until(lambda d: visible_files(d) == [])
    assert zh_desktop.find_element(By.CSS_SELECTOR, "#documents tr.qa-docs-nomatch").is_displayed()
    box.clear()
    box.send_keys(" ")
    wait.until(lambda d: len(visible_files(d)) == len(everything))
    # choosing a bulletin's article list without a search: click it open
    first = zh_desktop.find_element(By.CSS_SELECTOR, "#documents tr.qa-doc-row details.qa-doc-articles summary")
    zh_desktop.execute_script("arguments[0].scrollIntoView({block: 'center'})", first)
    first.click()
    assert first.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "ol.qa-art-list").is_displayed()


def test_strictness_reruns_and_moves_the_verdict(reader_page, zh_desktop):
    """A question the bulletins answer at 标准 whose best passage is under the strict threshold: 严格
    re-runs it and says it is not answered; 宽松 answers it again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _corpus = reader_page
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, "What is the collaborative service model between Dongguan and Tongren?")  # cosine 0.761
    answer = lambda d: d.find_element(By.CSS_SELECTOR, "#answer .qa-answer")  # noqa: E731
    assert "qa-none" not in answer(zh_desktop).get_attribute("class")

    def choose(label):
        radio = next(r for r in zh_desktop.find_elements(By.CSS_SELECTOR, "#strictness label")
                     if r.text.strip() == label)
        zh_desktop.execute_script("arguments[0].scrollIntoView({block: 'center'})", radio)
        radio.click()

    choose("严格")
    WebDriverWait(zh_desktop, 60).until(lambda d: "qa-none" in answer(d).get_attribute("class"))
    assert "简报似乎没有回答" in answer(zh_desktop).text and "需要" in answer(zh_desktop).text
    assert zh_desktop.find_elements(By.CSS_SELECTOR, "#cards .qa-card-nearest")
    choose("宽松")
    WebDriverWait(zh_desktop, 60).until(lambda d: "qa-none" not in answer(d).get_attribute("class"))


# --------------------------------------------------------------------------- issue 31: the page, used for a day


@pytest.fixture(scope="module")
def day_page(tmp_path_factory, seed_index):
    """(url, corpus, index folder): the page over its own copy of the seeds, for the tests of a day's use."""
    demo, url, corpus, index, _base = serve_seed_copy(tmp_path_factory, seed_index, "browser-day")
    try:
        yield url, corpus, index
    finally:
        demo.close()


def answer_class(d) -> str:
    return d.execute_script("const a = document.querySelector('#answer .qa-answer'); return a ? a.className : ''")


def test_clear_all_regions_reruns_the_question(day_page, zh_desktop):
    """The region box's clear-all "×" (which sends Gradio only a change, no input) runs the question
    again, like removing one chip: the Gansu-only cards go."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = day_page[0]
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, "社会工作专业人才 2025年 目标")
    pick(zh_desktop, "regions", "甘肃省")
    WebDriverWait(zh_desktop, 60).until(lambda d: card_regions(d) and all("甘肃" in r for r in card_regions(d)))
    clear = zh_desktop.find_element(By.CSS_SELECTOR, "#regions .remove-all")
    zh_desktop.execute_script("arguments[0].scrollIntoView({block: 'center'})", clear)
    clear.click()
    assert not zh_desktop.find_elements(By.CSS_SELECTOR, "#regions .token")
    WebDriverWait(zh_desktop, 30).until(lambda d: any("甘肃" not in r for r in card_regions(d)))


def test_refusal_under_a_filter_says_so_and_searches_without_it(day_page, zh_desktop):
    """With 甘肃 still selected, a question about 湖北 is refused: the page says the filter was on and
    that without it the bulletins answer; its button empties the filter and answers."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = day_page[0]
    wait = open_page(zh_desktop, url)
    pick(zh_desktop, "regions", "甘肃省")
    ask_here(zh_desktop, wait, "湖北社会工作专业人才总量目标是多少")
    wait.until(lambda d: "qa-none" in answer_class(d) and d.find_elements(By.CSS_SELECTOR, "#answer .qa-filtered"))
    note = zh_desktop.find_element(By.CSS_SELECTOR, "#answer .qa-filtered").text
    assert "地区 甘肃省" in note and "是筛选条件导致了没有答案" in note, note
    button = zh_desktop.find_element(By.CSS_SELECTOR, "#answer .qa-unfilter")
    assert button.text == "不加筛选再搜索"
    button.click()
    WebDriverWait(zh_desktop, 60).until(lambda d: answer_class(d) and "qa-none" not in answer_class(d))
    assert not zh_desktop.find_elements(By.CSS_SELECTOR, "#regions .token")
    assert any("湖北" in r for r in card_regions(zh_desktop))
    assert not zh_desktop.find_elements(By.CSS_SELECTOR, "#answer .qa-filtered")


@pytest.fixture(scope="module")
def day_extra(day_page):
    """A PDF bulletin and a text one added to the day's page and indexed (one rebuild)."""
    from gradio_client import Client

    from tests.test_formats import make_pdf

    url, corpus, _index = day_page
    pdf = make_pdf(corpus.parent / "kashgar.pdf", [["第一页：社会工作简报的开头。"],
                                                   ["喀什市民政局印发通知，到2026年底前全市建成126个社区社工站。",
                                                    "培养持证社会工作者458名。"]])
    client = Client(url, verbose=False)
    for name, data in (("喀什 社工站.pdf", pdf.read_bytes()), ("wuwei.txt", WUWEI.encode())):
        r = client.predict(name, base64.b64encode(data).decode(), api_name="/add_document")
        assert r["saved"], r
    assert client.predict(False, api_name="/rebuild")[0].startswith("✓")
    return url, corpus


WUWEI = "武威社工简报\n\n武威市凉州区推进社工站建设\n\n凉州区民政局印发方案，全区建成乡镇社工站19个，配备社工人员57名。\n（据凉州区民政局）\n"


def open_link_in_tab(d, link, until):
    """Click a card's target=_blank link; in the new tab wait for ``until(d)``, return its result
    and the tab's URL (the tab is closed after)."""
    from selenium.webdriver.support.ui import WebDriverWait

    main = d.current_window_handle
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    try:
        WebDriverWait(d, 30).until(lambda d: len(d.window_handles) > 1)
        d.switch_to.window([h for h in d.window_handles if h != main][0])
        try:
            return WebDriverWait(d, 30).until(until), d.current_url
        except Exception:
            print("DEBUG", d.current_url, d.page_source[:3000])
            raise
    finally:
        for h in d.window_handles:
            if h != main:
                d.switch_to.window(h)
                d.close()
        d.switch_to.window(main)


def test_original_text_opens_at_the_cited_lines_marked(day_page, zh_desktop):
    """"打开原文件" on a text file's card: its lines with their numbers, the cited ones marked and in
    view (issue 29)."""
    from selenium.webdriver.common.by import By

    url, corpus, _index = day_page
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, QUESTION)
    card = zh_desktop.find_element(By.CSS_SELECTOR, "#cards .qa-card")
    a, b = map(int, zh_desktop.execute_script(
        "return arguments[0].querySelector('.qa-meta').textContent.match(/第(\\d+)–(\\d+)行/).slice(1)", card))
    link = card.find_element(By.CSS_SELECTOR, "a.qa-open")
    assert f"?lines={a}-{b}#L" in link.get_attribute("href")

    def viewer(d):
        return d.execute_script("""
            const rows = [...document.querySelectorAll('tr.cited')];
            if (!rows.length) return null;
            const seen = (r) => { const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= window.innerHeight; };
            return {cited: rows.map(r => +r.querySelector('td.n').textContent), inView: rows.filter(seen).length,
                    firstInView: seen(rows[0]), above: seen(rows[0].previousElementSibling),
                    text: rows.map(r => r.querySelector('td.t').textContent).join('\\n'),
                    first: document.querySelector('tr td.n').textContent,
                    bg: getComputedStyle(rows[0].querySelector('td.t')).backgroundColor,
                    plain: getComputedStyle(document.querySelector('tr:not(.cited) td.t')).backgroundColor};""")

    shown, _url = open_link_in_tab(zh_desktop, link, viewer)
    assert shown["cited"] == list(range(a, b + 1)) and shown["first"] == "1"
    # scrolled to: the first cited line in view with the line above it, and as many cited lines as fit
    assert shown["firstInView"] and shown["above"] and shown["inView"] >= min(len(shown["cited"]), 20), shown
    assert shown["bg"] != shown["plain"]  # marked
    lines = (corpus / "003_41b0a890d9bd57ab.txt").read_text(encoding="utf-8").splitlines()
    assert shown["text"] == "\n".join(lines[a - 1:b])


def test_pdf_card_links_its_page(day_extra, zh_desktop):
    from selenium.webdriver.common.by import By

    url, _corpus = day_extra
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, "喀什 社区社工站 建成多少个")
    links = [a.get_attribute("href") for a in zh_desktop.find_elements(By.CSS_SELECTOR, "#cards a.qa-open")]
    assert url + "original/%E5%96%80%E4%BB%80%20%E7%A4%BE%E5%B7%A5%E7%AB%99.pdf#page=2" in links, links


def test_original_of_a_deleted_file_says_so_in_chinese(day_extra, zh_desktop):
    """A file deleted but not yet rebuilt: its card's link opens a page that says so, in the
    browser's language, not {"detail": ...}."""
    from gradio_client import Client
    from selenium.webdriver.common.by import By

    url, corpus = day_extra
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, "凉州区 建成乡镇社工站 多少个")
    card = next(c for c in zh_desktop.find_elements(By.CSS_SELECTOR, "#cards .qa-card") if "wuwei.txt" in c.text)
    assert Client(url, verbose=False).predict("wuwei.txt", api_name="/delete")["deleted"]
    body, _url = open_link_in_tab(zh_desktop, card.find_element(By.CSS_SELECTOR, "a.qa-open"),
                                  lambda d: d.find_element(By.TAG_NAME, "body").text)
    assert "wuwei.txt 已从语料库中删除" in body and "重建索引" in body, body
    assert "detail" not in body and "{" not in body


def test_original_route_answers_bad_names_and_races_in_one_line(day_page):
    """original/<name>%00 and a file deleted and re-created while it is fetched: a short page
    saying so (404 / 503), never an HTTP 500 with a traceback."""
    import threading
    import urllib.error
    import urllib.request

    url, corpus, _index = day_page

    def get(path):
        req = urllib.request.Request(url + "original/" + path, headers={"Accept-Language": "zh-CN"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    status, body = get("003_41b0a890d9bd57ab.txt%00")
    assert status == 404 and "不是语料库中的文件" in body and "Traceback" not in body and "null" not in body
    target, data = corpus / "flaky.txt", ("张掖社工站\n\n" + "张掖市建成社工站12个。\n" * 400).encode()
    target.write_bytes(data)
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            target.unlink(missing_ok=True)
            target.write_bytes(data)

    t = threading.Thread(target=churn)
    t.start()
    try:
        statuses = {}
        for _ in range(150):
            s, body = get("flaky.txt")
            statuses[s] = statuses.get(s, 0) + 1
            assert s in (200, 404, 503), (s, body[:300])
            assert s == 200 or ("张掖" not in body and "Traceback" not in body and "<div class=\"msg\">" in body)
    finally:
        stop.set()
        t.join()
    assert statuses.get(200), statuses


def test_date_filter_says_how_many_articles_are_undated(day_page, zh_desktop):
    """A date filter on bulletins whose articles mostly carry no date: the page says how many
    articles have none and that the filter left them out (the /documents endpoint counts them too)."""
    from gradio_client import Client
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url = day_page[0]
    docs = Client(url, verbose=False).predict(api_name="/documents")
    indexed = [a for d in docs for a in d["articles"]]  # the index's articles (a deleted file's until a rebuild)
    undated = sum(1 for a in indexed if not a["date"])
    wait = open_page(zh_desktop, url)
    since = zh_desktop.find_element(By.CSS_SELECTOR, "#since textarea, #since input")
    since.send_keys("2020")
    box = zh_desktop.find_element(By.CSS_SELECTOR, "#question textarea, #question input")
    box.clear()
    box.send_keys(QUESTION)
    box.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-undated"))
    note = zh_desktop.find_element(By.CSS_SELECTOR, "#answer .qa-undated").text
    if undated:
        assert f"{len(indexed)} 篇文章中有 {undated} 篇没有日期，日期筛选已把它们排除在外" in note, note
    else:
        assert f"全部 {len(indexed)} 篇文章都有日期" in note, note


def test_rebuild_pressed_during_an_upload_waits_for_it(day_page, zh_desktop, tmp_path):
    """Add and Rebuild pressed together: the rebuild takes the new file (it waited for the upload),
    and its message stays (the upload's came first)."""
    from selenium.webdriver.common.by import By

    url = day_page[0]
    upload = slow_pdf(tmp_path / "dingxi.pdf")  # a second or more to check
    wait = open_page(zh_desktop, url)
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    time.sleep(1)
    zh_desktop.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(upload))
    wait.until(lambda d: d.execute_script("return document.body.textContent.includes('dingxi')"))  # received
    zh_desktop.find_element(By.CSS_SELECTOR, "#add").click()
    zh_desktop.find_element(By.CSS_SELECTOR, "#rebuild").click()  # at once, while the upload is checked
    wait.until(lambda d: "✓" in d.find_element(By.CSS_SELECTOR, "#build-msg").text)
    time.sleep(1)  # a late upload message would wipe the rebuild's (as it did)
    build = zh_desktop.find_element(By.CSS_SELECTOR, "#build-msg").text
    assert "没有变化" not in build and "个文件向量化" in build, build  # (other tests' files may be new too)
    row = next(r for r in zh_desktop.find_elements(By.CSS_SELECTOR, "#documents tr.qa-doc-row") if "dingxi.pdf" in r.text)
    assert "已索引" in row.text, row.text


def test_card_note_says_what_a_lower_cards_mark_is_and_delete_list_names_bulletins(day_page, zh_desktop):
    """The note under the cards no longer says every marked sentence answers (lower cards mark the
    passage's nearest sentence); the delete list shows each bulletin's name with its file."""
    from selenium.webdriver.common.by import By

    url = day_page[0]
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, QUESTION)
    note = zh_desktop.find_element(By.CSS_SELECTOR, "#cards .qa-score-note").text
    assert "高亮的句子就是回答问题的句子" not in note and "与问题最接近的句子" in note and "不一定回答" in note, note
    zh_desktop.find_elements(By.CSS_SELECTOR, "button[role=tab]")[1].click()
    box = zh_desktop.find_element(By.CSS_SELECTOR, "#to-delete input")
    zh_desktop.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    box.send_keys("_")  # every seed file
    options = wait.until(lambda d: [li.text.strip() for li in d.find_elements(By.CSS_SELECTOR, "ul.options li, [role=option]")
                                    if li.is_displayed()])
    from gradio_client import Client

    named = {d["file"]: d["doc_title"] for d in Client(url, verbose=False).predict(api_name="/documents")
             if d["doc_title"] and d["doc_title"] != d["file"]}
    assert named, "no seed bulletin has a name"  # 001's masthead, 社会工作
    for file, name in named.items():
        assert f"{name} · {file}" in options, options
    box.send_keys(Keys_escape())


def Keys_escape():
    from selenium.webdriver.common.keys import Keys

    return Keys.ESCAPE


def test_model_answer_citations_have_a_copy_button(llm_page_url, zh_desktop):
    from selenium.webdriver.common.by import By

    url, _server = llm_page_url
    wait = open_page(zh_desktop, url)
    zh_desktop.find_element(By.CSS_SELECTOR, "#ask").click()  # an empty box says so (issue 31)
    wait.until(lambda d: "问题为空" in d.find_element(By.CSS_SELECTOR, "#answer").text)
    ask_here(zh_desktop, wait, "酒泉 持证上岗社会工作者 总数达到多少")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-llm")
               and not d.find_elements(By.CSS_SELECTOR, "#answer .qa-llm-writing"))
    buttons = zh_desktop.find_elements(By.CSS_SELECTOR, "#answer .qa-llm .qa-citation .qa-copy")
    assert buttons and buttons[0].text == "复制引用"
    ref = buttons[0].find_element(By.XPATH, "..").text
    assert buttons[0].get_attribute("data-citation") in ref and "003_41b0a890d9bd57ab.txt" in ref


def test_rebuild_sent_during_an_upload_waits_for_it_through_the_server(day_page):
    """The same race through the page's server, the two requests sent together (gradio_client):
    the rebuild waits in the corpus's queue behind the upload and indexes the new file."""
    from gradio_client import Client

    url, corpus, _index = day_page
    pdf = slow_pdf(corpus.parent / "pingliang.pdf")
    client = Client(url, verbose=False)
    add = client.submit("pingliang.pdf", base64.b64encode(pdf.read_bytes()).decode(), api_name="/add_document")
    # the upload is in the server's queue (or already being checked) before the rebuild is sent
    from gradio_client.utils import Status

    deadline = time.time() + 30
    while add.status().code in (Status.STARTING, Status.JOINING_QUEUE) and time.time() < deadline:
        time.sleep(0.005)
    rebuild = client.submit(False, api_name="/rebuild")
    assert add.result()["saved"]
    msg = rebuild.result()[0]
    assert msg.startswith("✓") and "没有变化" not in msg and "nothing changed" not in msg, msg
    docs = {d["file"]: d["state"] for d in client.predict(api_name="/documents")}
    assert docs["pingliang.pdf"] == "indexed", docs


def slow_pdf(path: Path) -> Path:
    """A two-page PDF whose first page is 20,000 drawn lines: a second or more to check on upload
    (pypdf parses its drawing), two short passages to index."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, "平凉市崆峒区社工站建设情况。")
    for i in range(20000):
        c.line(72 + i % 400, 100 + i % 500, 80 + i % 300, 110 + i % 450)
    c.showPage()
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, "崆峒区建成社工站15个，配备社工人员42名。")
    c.save()
    return path


def test_phone_cards_fold_the_question_stays_and_date_hints_fit(day_page):
    """On a 390×844 phone: the date boxes' placeholders are not cut off; each card shows its
    answering sentence with a little around it and opens the whole passage on demand; the
    question box stays in view while the cards scroll."""
    from selenium.webdriver.common.by import By

    url = day_page[0]
    d = browser("zh-CN", PHONE)
    try:
        wait = open_page(d, url)
        fits = d.execute_script("""
            return ['#since', '#until'].map(id => {
              const i = document.querySelector(id + ' input, ' + id + ' textarea'), cs = getComputedStyle(i);
              const c = document.createElement('canvas').getContext('2d'); c.font = cs.font;
              return [c.measureText(i.placeholder).width,
                      i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)]; });""")
        assert all(need <= room for need, room in fits), fits
        ask_here(d, wait, "社会工作专业人才 2025年 目标")
        cards = d.execute_script("""
            return [...document.querySelectorAll('#cards .qa-card')].map(c => {
              const m = c.querySelector('.qa-text mark'), r = m && m.getBoundingClientRect();
              return {h: c.getBoundingClientRect().height, folds: c.querySelectorAll('.qa-fold').length,
                      hidden: [...c.querySelectorAll('.qa-fold')].every(f => f.offsetParent === null),
                      mark: !!(r && r.height > 0), text: c.querySelector('.qa-text').innerText.length}; });""")
        assert len(cards) == 5 and all(c["mark"] for c in cards), cards  # the answering sentence shows
        folded = [i for i, c in enumerate(cards) if c["folds"]]
        assert folded and all(cards[i]["hidden"] for i in folded), cards
        assert all(c["h"] < 0.75 * PHONE[1] for c in cards), cards
        i = folded[0]
        card = d.find_elements(By.CSS_SELECTOR, "#cards .qa-card")[i]
        button = card.find_element(By.CSS_SELECTOR, ".qa-expand")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        opened = d.execute_script("""const c = arguments[0];
            return [[...c.querySelectorAll('.qa-fold')].every(f => f.offsetParent !== null),
                    c.querySelector('.qa-text').innerText.length];""", card)
        assert opened[0] and opened[1] > cards[i]["text"], (opened, cards[i])
        assert button.text == "收起"
        d.execute_script("document.querySelectorAll('#cards .qa-card')[4].scrollIntoView({block: 'end'})")
        time.sleep(0.3)
        top, bottom = d.execute_script(
            "const r = document.querySelector('#question').getBoundingClientRect(); return [r.top, r.bottom]")
        assert 0 <= top and bottom <= PHONE[1], (top, bottom)
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    finally:
        close(d)


def test_list_question_answers_with_its_items_cited(day_page, zh_desktop):
    """A list question (issue 28): the answer lists its items one a line, each with its card's
    marker and citation."""
    import json

    from selenium.webdriver.common.by import By

    question = json.loads((ROOT / "benchmarks" / "list_questions.jsonl").read_text(encoding="utf-8").splitlines()[0])
    url = day_page[0]
    wait = open_page(zh_desktop, url)
    ask_here(zh_desktop, wait, question["q"])
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer .qa-list-answer li"))
    items = zh_desktop.find_elements(By.CSS_SELECTOR, "#answer .qa-list-answer li.qa-list-item")
    assert len(items) >= 2, [i.text for i in items]
    for item in items:
        link = item.find_element(By.CSS_SELECTOR, "a.qa-cite")
        n = link.text.strip("[]")
        assert link.get_attribute("href").endswith(f"#qa-card-{n}")
        assert "行" in item.find_element(By.CSS_SELECTOR, ".qa-citation").text
    text = zh_desktop.find_element(By.CSS_SELECTOR, "#answer").text
    assert sum(k in text for k in question["keys"]) >= 2, (question["keys"], text)


def test_unanswered_question_export_carries_the_verdict(day_page, zh_desktop, tmp_path):
    """Issue 28's last line: the Markdown export of a refused question, downloaded from the page,
    says it is not answered, and why."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = day_page[0]
    wait = open_page(zh_desktop, url)
    zh_desktop.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    ask_here(zh_desktop, wait, "苏州 社会工作 持证人数")
    wait.until(lambda d: "qa-none" in answer_class(d))
    reason = zh_desktop.find_element(By.CSS_SELECTOR, "#answer .qa-answer").text
    button = wait.until(lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "#export-md") if b.is_displayed()])[0]
    zh_desktop.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    got = WebDriverWait(zh_desktop, 60).until(lambda d: [f for f in tmp_path.glob("*.md")])
    md = got[0].read_text(encoding="utf-8")
    assert "**结论:** 未回答：" in md or "**结论：** 未回答：" in md, md[:400]
    assert "苏州" in md.split("\n\n")[1] and "苏州" in reason
