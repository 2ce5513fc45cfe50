"""The report: the terminal table fits its width; the HTML page answers "which chunking, and why"."""

import shutil
import subprocess
from html import escape
from html.parser import HTMLParser

import pytest
from rich.console import Console

from chunkopt.corpus import Corpus, Document
from chunkopt.queries import Query, Reference
from chunkopt.report import results_table, sweep_setup, write_html
from chunkopt.sweep import Sweep

TEXT = {
    "<b>bread</b>.md": "# Bread\n\nSourdough bread needs a lively starter fed with flour and water. " * 3
    + "\n\nBake the loaf in a hot Dutch oven so the crust blisters and the crumb opens. " * 3,
    "stars.md": "# Stars\n\nA red giant is a dying star that has exhausted the hydrogen in its core. " * 3
    + "\n\nNeutron stars spin rapidly and emit beams of radio waves called pulsars. " * 3,
}


def ref(doc, phrase):
    start = TEXT[doc].index(phrase)
    return Reference(doc, start, start + len(phrase))


@pytest.fixture(scope="module")
def fitted():
    corpus = Corpus([Document(name, text) for name, text in TEXT.items()])
    queries = [
        Query("q1", "how do I feed a <starter>", (ref("<b>bread</b>.md", "a lively starter fed with flour and water"),)),
        Query("q2", "what are pulsars", (ref("stars.md", "emit beams of radio waves called pulsars"),)),
        Query("q3", "unrelated words entirely", (ref("stars.md", "exhausted the hydrogen in its core"),)),
    ]
    grid = [{"strategy": ["fixed", "recursive"], "chunk_size": [16, 64]}, {"strategy": "sentence", "chunk_size": [32]}]
    sweep = Sweep(grid, token_budget=64, budgets=[16, 32], baseline="fixed chunk_size=64").fit(corpus, queries)
    return sweep, corpus, queries


class Outline(HTMLParser):
    """Headings, element counts and visible text of a page."""

    def __init__(self):
        super().__init__()
        self.headings, self.tags, self.text, self._in_heading = [], {}, [], False

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._in_heading = tag in ("h1", "h2")

    def handle_endtag(self, tag):
        self._in_heading = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_heading:
            self.headings.append(data)


def page(fitted, tmp_path):
    sweep, corpus, queries = fitted
    path = tmp_path / "report.html"
    setup = sweep_setup(sweep, corpus, queries, "queries.jsonl")
    write_html(sweep, setup, "sweep <of> docs", path, recommended=sweep.recommended_result(corpus, queries),
               corpus=corpus, queries=queries)
    return path


def test_report_has_the_recommendation_setup_charts_tables_and_misses(fitted, tmp_path):
    outline = Outline()
    outline.feed(page(fitted, tmp_path).read_text())
    assert outline.headings[1:] == ["Recommendation", "Setup", "Tied with the best", "Charts",
                                    "Configurations, ranked by recall", "Queries the recommendation misses"]
    assert outline.tags["svg"] == 4  # budget curves, against tokens, chunks and chunk size
    assert outline.tags["details"] >= 1  # the full metric table is folded away
    assert "chunks truncated" not in " ".join(outline.text)  # a lexical retriever reads every chunk whole


def test_report_leads_with_the_verdict_and_names_the_setup(fitted, tmp_path):
    sweep = fitted[0]
    html = page(fitted, tmp_path).read_text()
    assert f"<p class='lead'>{escape(sweep.explain().splitlines()[0])}</p>" in html
    for item in ("documents", "queries", "retriever", "context budget", "objective", "chunkopt", "date"):
        assert f"<dt>{item}</dt>" in html
    assert "64 tokens per query" in html and "queries.jsonl" in html


def test_report_explains_every_metric_of_the_full_table(fitted, tmp_path):
    html = page(fitted, tmp_path).read_text()
    assert "<dt>recall</dt><dd>share of the answer (reference) text that is inside the returned context</dd>" in html
    assert "<dt>tokens_per_query</dt>" in html


def test_missed_queries_show_their_answer_and_what_came_back(fitted, tmp_path):
    sweep, corpus, queries = fitted
    result = sweep.recommended_result(corpus, queries)
    missed = [row for row in result.per_query if row["recall"] < 0.5]
    html = page(fitted, tmp_path).read_text()
    assert f"{len(missed)} of 3 queries get less than 50% of their answer text" in html


def test_user_text_is_escaped(fitted, tmp_path):
    html = page(fitted, tmp_path).read_text()
    assert "<b>bread</b>" not in html and "&lt;b&gt;bread&lt;/b&gt;.md" in html
    assert "<starter>" not in html
    assert "sweep &lt;of&gt; docs" in html


def test_report_needs_no_network(fitted, tmp_path):
    html = page(fitted, tmp_path).read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless chromium (Debian package 'chromium')")
def test_report_renders_in_a_real_browser(fitted, tmp_path):
    path = page(fitted, tmp_path)
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    outline = Outline()
    outline.feed(dom)
    assert "Recommendation" in outline.headings and outline.tags.get("svg") == 4
    assert outline.tags.get("polyline", 0) >= 5  # a budget curve per configuration


@pytest.mark.parametrize("width", [80, 100, 140])
def test_terminal_table_fits_its_width_without_cutting_numbers(fitted, width):
    sweep = fitted[0]
    console = Console(width=width, record=True)
    console.print(results_table(sweep.results_, "recall", width=width))
    text = console.export_text()
    assert all(len(line) <= width for line in text.splitlines())
    assert "…" not in text
    for name in ("recall", "95% CI", "note", "tokens/q", "chunks"):
        assert name in text


def test_wide_terminals_get_more_columns(fitted):
    sweep = fitted[0]

    def header(width):
        console = Console(width=width, record=True)
        console.print(results_table(sweep.results_, "recall", width=width))
        return console.export_text()

    assert "mrr" not in header(80) and "mrr" in header(160)


def test_the_baseline_is_always_on_the_table(fitted):
    sweep = fitted[0]
    console = Console(width=140, record=True)
    console.print(results_table(sweep.results_, "recall", top=1, width=140))
    assert "fixed chunk_size=64" in console.export_text()


def test_a_dense_retrievers_truncated_chunks_are_shown_beside_each_configuration(fitted, tmp_path, monkeypatch):
    sweep = fitted[0]
    rows = [dict(r, max_seq_length=256, truncated_share=0.5) for r in sweep.results_]
    monkeypatch.setattr(sweep, "results_", rows)
    html = page(fitted, tmp_path).read_text()
    assert "<th>chunks truncated</th>" in html and "50% (over 256 word pieces)" in html
