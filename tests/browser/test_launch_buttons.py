"""Every chapter page of the built book offers Colab, Binder, download and repository links to its own notebook."""

import html
import re

import pytest
import yaml

from ._book import HTML, ROOT, book_pages

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY = CONFIG["repository"]["url"]
OWNER_REPO = REPOSITORY.removeprefix("https://github.com/")
CHAPTERS = [page for page in book_pages() if page.startswith("notebooks/")]


@pytest.mark.parametrize("page", CHAPTERS)
def test_launch_buttons_point_at_this_notebook(page):
    text = html.unescape((HTML / page).read_text())
    notebook = page.removesuffix(".html") + ".ipynb"
    branch = CONFIG["repository"]["branch"]
    links = set(re.findall(r'href="([^"]+)"', text))
    assert f"https://colab.research.google.com/github/{OWNER_REPO}/blob/{branch}/{notebook}" in links
    binder = [link for link in links if link.startswith(f"https://mybinder.org/v2/gh/{OWNER_REPO}/{branch}")]
    assert binder and all(notebook in link for link in binder), binder
    assert REPOSITORY in links
    assert any(link.endswith(f"_sources/{notebook}") for link in links), "download the .ipynb"
