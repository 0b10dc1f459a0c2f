"""The rendered book in a real browser: pages load cleanly offline, figures decode, are shown sharp at their
own size with alt text, code needs no sideways scrolling, citations resolve, every explorer's sliders change the
picture, and pages stay light."""

import re
from urllib.parse import urldefrag

import pytest

from ._book import HTML, SCREENSHOTS, book_pages

# The theme's own two console errors on every Jupyter Book 1 page (not ours, harmless).
THEME_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared", "Got invalid theme mode")


class PageLog:
    """Console errors, failed local requests and any request that leaves the machine."""

    def __init__(self, page, base):
        self.errors, self.failed, self.external = [], [], []
        page.on("console", lambda m: m.type == "error" and self._error(m.text))
        page.on("pageerror", lambda e: self._error(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"))
        page.on("request", lambda r: not r.url.startswith((base, "data:", "blob:")) and self.external.append(r.url))

    def _error(self, text):
        if not any(known in text for known in THEME_ERRORS):
            self.errors.append(text)


def open_page(browser, book_url, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = PageLog(page, book_url)
    page.goto(f"{book_url}/{path}", wait_until="networkidle")
    return page, log


@pytest.mark.parametrize("path", book_pages())
def test_page_loads_cleanly(browser, book_url, path):
    page, log = open_page(browser, book_url, path)
    undecodable = page.evaluate(
        """() => Promise.all(Array.from(document.images, img =>
               img.decode().then(() => img.naturalWidth > 0 ? null : img.src.slice(0, 80),
                                 () => img.src.slice(0, 80))))
             .then(results => results.filter(Boolean))"""
    )
    typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    has_math = page.evaluate("() => /\\\\\\(|\\\\\\[|\\$\\$/.test(document.body.innerText)")
    page.close()
    assert log.errors == [], f"console errors on {path}"
    assert log.failed == [], f"failed local requests on {path}"
    assert log.external == [], f"{path} fetched from outside the book"
    assert undecodable == [], f"images that do not decode on {path}"
    assert typeset > 0 or not has_math, f"math on {path} was not typeset"


def chapter_pages():
    return [p for p in book_pages() if p.startswith("notebooks/")]


@pytest.mark.parametrize("path", chapter_pages())
def test_figures_are_sharp_described_and_code_fits(browser, book_url, path):
    page, _ = open_page(browser, book_url, path)
    figures = page.evaluate(
        """() => Promise.all(Array.from(document.querySelectorAll('.cell_output img'), img =>
               img.decode().then(() => ({src: img.src.slice(-20), alt: img.alt, natural: img.naturalWidth,
                                        shown: img.getBoundingClientRect().width}))))"""
    )
    scrolling = page.evaluate(
        """() => Array.from(document.querySelectorAll('.cell_input pre'))
               .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
               .map(pre => pre.textContent.split('\\n').reduce((a, b) => a.length > b.length ? a : b))"""
    )
    page.close()
    assert figures, f"no figures on {path}"
    for figure in figures:
        # drawn at twice the pixels it is shown at (sharp on high-density screens), never scaled down
        assert abs(figure["natural"] - 2 * figure["shown"]) <= 3, f"{figure} on {path}"
        assert len(figure["alt"].split()) >= 8 and not figure["alt"].endswith(".png"), f"{figure} on {path}"
    assert scrolling == [], f"code blocks on {path} scroll sideways; longest lines: {scrolling}"


def test_pages_stay_light():
    pages = {p: (HTML / p).stat().st_size for p in book_pages()}
    heavy = {p: size for p, size in pages.items() if size > 3_000_000}
    assert heavy == {}, f"pages over 3 MB: {heavy}"
    total = sum(f.stat().st_size for f in HTML.rglob("*") if f.is_file())
    assert total < 40_000_000, f"the HTML book weighs {total / 1e6:.1f} MB"


@pytest.mark.parametrize("path", book_pages())
def test_citations_link_to_bibliography(browser, book_url, path):
    page, _ = open_page(browser, book_url, path)
    hrefs = page.eval_on_selector_all("a[href*='bibliography.html#']", "els => els.map(e => e.href)")
    page.close()
    targets = {}
    for href in hrefs:
        url, anchor = urldefrag(href)
        if url not in targets:
            bib = browser.new_page()
            bib.goto(url)
            targets[url] = set(bib.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
            bib.close()
        assert anchor in targets[url], f"citation {href} on {path} has no target"


def test_book_cites(browser, book_url):
    page, _ = open_page(browser, book_url, "bibliography.html")
    entries = page.eval_on_selector_all(".citation", "els => els.length")
    page.close()
    assert entries > 0, "the bibliography is empty"


def explorer_pages():
    return [p for p in book_pages() if (HTML / p).is_file() and 'class="optim-explorer"' in (HTML / p).read_text()]


@pytest.mark.parametrize("path", explorer_pages())
def test_explorer_sliders_change_the_figure(browser, book_url, path):
    page, log = open_page(browser, book_url, path)
    explorers = page.locator(".optim-explorer")
    assert explorers.count() > 0
    stem = re.sub(r"\W+", "-", path.removesuffix(".html"))
    for i in range(explorers.count()):
        explorer = explorers.nth(i)
        image = explorer.locator("img.optim-explorer-frame")
        sliders = explorer.locator("input[type=range]")
        assert sliders.count() > 0
        assert explorer.locator(".optim-explorer-hint").is_hidden(), "the script ran: no hint about trust"
        for j in range(sliders.count()):
            slider = sliders.nth(j)
            before_src, before_alt = image.get_attribute("src"), image.get_attribute("alt")
            at_end = slider.input_value() == slider.get_attribute("max")
            slider.focus()
            slider.press("ArrowLeft" if at_end else "ArrowRight")
            assert image.get_attribute("src") != before_src, f"slider {j} of explorer {i} on {path} did nothing"
            assert image.get_attribute("alt") != before_alt, "the frame's label did not follow the slider"
            assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        explorer.screenshot(path=str(SCREENSHOTS / f"{stem}-explorer-{i + 1}.png"))
    page.close()
    assert log.errors == [] and log.failed == []


@pytest.mark.parametrize("path", book_pages())
def test_screenshot(browser, book_url, path):
    """A full-page screenshot of every page, for people to look at (in _build/screenshots)."""
    page, _ = open_page(browser, book_url, path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / (re.sub(r"\W+", "-", path.removesuffix(".html")) + ".png")
    page.screenshot(path=str(target), full_page=True)
    page.close()
    assert target.stat().st_size > 0


def test_every_toc_page_was_built():
    missing = [p for p in book_pages() if not (HTML / p).is_file()]
    assert missing == []
    assert sum(p.startswith("notebooks/") for p in book_pages()) == 11
