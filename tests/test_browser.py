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


def test_ask_with_enter_shows_marked_answer_and_screenshot(page_url, driver):
    from selenium.webdriver.common.by import By

    wait = ask(driver, page_url, QUESTION)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cards .qa-card mark"))
    answer = driver.find_element(By.CSS_SELECTOR, "#answer .qa-answer")
    assert "[1]" in answer.text and "酒泉" in answer.text
    cards = driver.find_elements(By.CSS_SELECTOR, "#cards .qa-card")
    assert len(cards) == 5
    assert "lines" in cards[0].text and "score" in cards[0].text
    # open the first card's full article
    summary = cards[0].find_element(By.CSS_SELECTOR, "details summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    assert cards[0].find_element(By.CSS_SELECTOR, "details .qa-article").is_displayed()
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)
    out = ROOT / "docs" / "screenshot.png"
    out.parent.mkdir(exist_ok=True)
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
    driver.set_window_size(1280, max(1200, height))
    time.sleep(0.5)
    assert driver.save_screenshot(str(out))
    assert out.stat().st_size > 20000


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
