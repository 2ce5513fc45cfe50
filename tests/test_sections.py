"""Section metadata: heading paths for Markdown, reStructuredText and HTML, pages for PDF."""

import pytest

import strategies
from chunkopt.corpus import Document, load_corpus
from chunkopt.grid import expand
from chunkopt.sections import chunk_document, heading_path, indexed_text, markdown_outline, rst_outline, with_sections
from strategies.base import Chunk, ParameterError

MARKDOWN = """# Configuration reference

Intro.

## Retention

### Limits

Keep 30 days.

```bash
# not a heading
```

Storage
-------

## Security ##
"""

RST = """=====
Guide
=====

First day
=========

Laptop
------

Access
======
"""


@pytest.fixture(scope="module")
def bundled():
    return load_corpus("corpora/docs")


def test_markdown_atx_and_setext_headings_outside_code_fences():
    assert markdown_outline(MARKDOWN) == (
        (0, 1, "Configuration reference"), (35, 2, "Retention"), (49, 3, "Limits"), (105, 2, "Storage"),
        (122, 2, "Security"),
    )


def test_rst_levels_follow_the_order_styles_first_appear_in():
    assert rst_outline(RST) == ((0, 1, "Guide"), (19, 2, "First day"), (40, 3, "Laptop"), (55, 2, "Access"))


def test_the_heading_path_holds_the_open_sections_outermost_first():
    headings = markdown_outline(MARKDOWN)
    assert heading_path(headings, MARKDOWN.index("Keep 30")) == ["Configuration reference", "Retention", "Limits"]
    assert heading_path(headings, MARKDOWN.index("Security")) == ["Configuration reference", "Security"]
    assert heading_path(headings, 0) == ["Configuration reference"]


def test_chunks_of_bundled_markdown_carry_their_heading_path(bundled):
    chunks = chunk_document(strategies.get("recursive", chunk_size=128), bundled["product/configuration-reference.md"])
    limits = next(c for c in chunks if c.text.startswith("## `health`"))
    assert limits.metadata["headings"] == ["Lumen Relay Agent — Configuration Reference", "`health`"]
    assert all(c.metadata["headings"][0] == "Lumen Relay Agent — Configuration Reference" for c in chunks)


def test_a_hash_line_inside_a_code_fence_of_a_bundled_document_is_no_heading(bundled):
    titles = [t for _, _, t in bundled["product/configuration-reference.md"].metadata["outline"]]
    assert "Temporarily raise the batch size on one host without editing agent.yaml" not in titles


def test_bundled_rst_titles_and_sections(bundled):
    document = bundled["onboarding/engineering-onboarding.rst"]
    outline = document.metadata["outline"]
    assert outline[:3] == ((0, 1, "Engineering Onboarding at Lumenstack"), (541, 2, "Your first day"),
                           (1290, 2, "Development environment"))
    chunk = next(c for c in chunk_document(strategies.get("recursive", chunk_size=64), document) if "monorepo" in c.text)
    assert chunk.metadata["headings"] == ["Engineering Onboarding at Lumenstack", "Development environment"]


def test_bundled_html_headings_sit_on_their_lines_of_the_extracted_text(bundled):
    document = bundled["web/pricing.html"]
    outline = document.metadata["outline"]
    assert [(level, title) for _, level, title in outline] == [
        (1, "Simple pricing that follows your data"), (2, "Starter"), (2, "Team"), (2, "Business"),
        (2, "Enterprise"), (2, "Questions about pricing")]
    assert all(document.text[start:start + len(title)] == title for start, _, title in outline)


def test_documents_without_an_outline_get_no_headings(bundled):
    chunks = chunk_document(strategies.get("recursive", chunk_size=128), bundled["glossary/glossary.txt"])
    assert all("headings" not in c.metadata for c in chunks)


def test_pdf_chunks_carry_their_first_and_last_page():
    document = Document("p.pdf", "Page one.\n\nPage two.\n\nPage three.", {"page_starts": [0, 11, 22]})
    chunks = [Chunk("Page one.", 0, 9, 3), Chunk("one.\n\nPage two.\n\nPage", 5, 26, 6), Chunk("three.", 27, 33, 2)]
    assert [c.metadata["page"] for c in with_sections(chunks, document)] == [[1, 1], [1, 3], [3, 3]]



# ---- context_header ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, params", [("recursive", {"chunk_size": 64, "overlap": 16}), ("fixed", {"chunk_size": 48, "overlap": 8}),
                                          ("sentence", {"chunk_size": 64}), ("semantic", {"max_tokens": 64, "min_tokens": 60})])
def test_the_header_and_the_chunk_together_fit_the_budget(bundled, name, params):
    chunker = strategies.get(name, context_header=True, **params)
    tokenizer = strategies.get_tokenizer()
    for document in bundled:
        for chunk in chunk_document(chunker, document):
            assert document.text[chunk.start:chunk.end] == chunk.text
            header = chunk.metadata.get("context")
            assert (tokenizer.count(header + "\n\n") if header else 0) + chunk.n_tokens <= chunker.budget


def test_the_header_goes_into_the_indexed_text_never_into_the_chunk_text():
    document = Document("a.md", MARKDOWN, {"outline": markdown_outline(MARKDOWN)})
    chunk = next(c for c in chunk_document(strategies.get("recursive", chunk_size=64, context_header=True), document)
                 if "Keep 30" in c.text)
    section = "### Limits\n\nKeep 30 days.\n\n```bash\n# not a heading\n```"  # up to the Storage heading
    assert chunk.text == section == MARKDOWN[chunk.start:chunk.end]
    assert chunk.metadata["context"] == "Configuration reference > Retention > Limits"
    assert indexed_text(chunk) == "Configuration reference > Retention > Limits\n\n" + section


def test_with_context_header_no_chunk_crosses_a_heading(bundled):
    document = bundled["product/api-guide.md"]
    starts = [start for start, _, _ in document.metadata["outline"]]
    for chunk in chunk_document(strategies.get("fixed", chunk_size=400, context_header=True), document):
        assert not any(chunk.start < s < chunk.end for s in starts)


def test_context_header_is_off_by_default_and_then_changes_nothing(bundled):
    chunker = strategies.get("recursive", chunk_size=64)
    document = bundled["support/FAQ.md"]
    assert "context_header" not in chunker.params
    assert [c.text for c in chunk_document(chunker, document)] == [c.text for c in chunker.chunk(document.text)]
    assert all("context" not in c.metadata for c in chunk_document(chunker, document))


def test_context_header_is_a_grid_axis():
    configs = expand([{"strategy": "recursive", "chunk_size": 64, "context_header": [False, True]}])
    assert [c.params.get("context_header", False) for c in configs] == [False, True]


def test_a_heading_path_longer_than_the_budget_is_refused_naming_the_document():
    text = "# " + "very long title " * 20 + "\n\nText."
    document = Document("long.md", text, {"outline": markdown_outline(text)})
    with pytest.raises(ParameterError, match="heading path .* of 'long.md' is .* tokens, which leaves no room"):
        chunk_document(strategies.get("recursive", chunk_size=16, context_header=True), document)
