"""Reading a folder into a Corpus: formats, ids, what is skipped and why, and the errors."""

import io
import os
import warnings

import pytest

from chunkopt.corpus import CorpusError, describe_skipped, html_to_text, load_corpus


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def test_folder_is_read_recursively_with_posix_relative_ids_in_sorted_order(tmp_path):
    write(tmp_path / "b.txt", "bee")
    write(tmp_path / "sub" / "deeper" / "a.md", "# A")
    write(tmp_path / "a.rst", "Title\n=====")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["a.rst", "b.txt", "sub/deeper/a.md"]


def test_metadata_records_absolute_path_and_format(tmp_path):
    write(tmp_path / "notes.markdown", "# Notes")
    doc = load_corpus(tmp_path)["notes.markdown"]
    assert doc.metadata["path"] == str((tmp_path / "notes.markdown").absolute())
    assert doc.metadata["format"] == "markdown"


def test_single_file_is_a_corpus_of_one_named_after_the_file(tmp_path):
    write(tmp_path / "one.txt", "just this")
    corpus = load_corpus(tmp_path / "one.txt")
    assert [(d.id, d.text) for d in corpus] == [("one.txt", "just this")]


def test_crlf_line_endings_are_kept_so_offsets_match_the_file(tmp_path):
    write(tmp_path / "win.txt", "line one\r\nline two\r\n")
    assert load_corpus(tmp_path)["win.txt"].text == "line one\r\nline two\r\n"


def test_utf8_bom_is_dropped(tmp_path):
    write(tmp_path / "bom.txt", b"\xef\xbb\xbfcaf\xc3\xa9")
    assert load_corpus(tmp_path)["bom.txt"].text == "café"


def test_utf16_file_with_bom_is_text_not_binary(tmp_path):
    write(tmp_path / "wide.txt", "wide text".encode("utf-16"))
    assert load_corpus(tmp_path)["wide.txt"].text == "wide text"


def test_latin1_file_is_read_with_a_warning_naming_it(tmp_path):
    write(tmp_path / "old.txt", "café crème".encode("latin-1"))
    with pytest.warns(UserWarning, match=r"old\.txt is not valid UTF-8; read it as cp1252"):
        corpus = load_corpus(tmp_path)
    assert corpus["old.txt"].text == "café crème"


def test_utf8_file_reads_without_warning(tmp_path):
    write(tmp_path / "new.txt", "naïve")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_corpus(tmp_path)["new.txt"].text == "naïve"


def test_binary_file_is_skipped_as_binary(tmp_path):
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / "blob.txt", b"abc\x00def")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["doc.txt"]
    assert corpus.skipped == [("blob.txt", "binary")]


def test_hidden_files_and_folders_are_skipped(tmp_path):
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / ".secret.txt", "no")
    write(tmp_path / ".git" / "HEAD.txt", "no")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["doc.txt"]
    assert corpus.skipped == [(".git", "hidden"), (".secret.txt", "hidden")]


def test_unsupported_extensions_and_query_files_are_skipped(tmp_path):
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / "image.png", "not really")
    write(tmp_path / "queries.jsonl", "{}")
    corpus = load_corpus(tmp_path)
    assert corpus.skipped == [("image.png", "unsupported (.png)"), ("queries.jsonl", "unsupported (.jsonl)")]


def test_excluded_query_file_is_skipped_whatever_its_extension(tmp_path):
    write(tmp_path / "doc.txt", "text")
    queries = write(tmp_path / "questions.txt", "not a document")
    corpus = load_corpus(tmp_path, exclude=(queries,))
    assert [d.id for d in corpus] == ["doc.txt"]
    assert corpus.skipped == [("questions.txt", "query file")]


def test_empty_file_is_skipped_as_empty(tmp_path):
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / "blank.md", "  \n")
    assert load_corpus(tmp_path).skipped == [("blank.md", "empty")]


def test_summary_counts_documents_size_and_skipped_by_reason(tmp_path):
    write(tmp_path / "a.txt", "x" * 1024)
    write(tmp_path / "b.txt", "y" * 512)
    write(tmp_path / "c.png", "z")
    write(tmp_path / "d.jsonl", "{}")
    write(tmp_path / "e.txt", b"\x00")
    write(tmp_path / "f.txt", "")
    expected = "read 2 documents (1.5 KB); skipped 4: 2 unsupported (.jsonl, .png), 1 binary, 1 empty"
    assert load_corpus(tmp_path).summary() == expected


def test_summary_names_the_skipped_files_when_there_are_few(tmp_path):
    write(tmp_path / "a.txt", "text")
    write(tmp_path / "c.png", "z")
    write(tmp_path / "e.txt", b"\x00")
    expected = "read 1 document (4 bytes); skipped 2: 1 unsupported (c.png), 1 binary (e.txt)"
    assert load_corpus(tmp_path).summary() == expected


def test_summary_gives_small_sizes_in_bytes(tmp_path):
    write(tmp_path / "a.txt", "héllo")
    assert load_corpus(tmp_path).summary() == "read 1 document (6 bytes)"


def test_summary_without_skipped_files_is_just_the_count(tmp_path):
    write(tmp_path / "a.txt", "x" * 2048)
    assert load_corpus(tmp_path).summary() == "read 1 document (2.0 KB)"


def test_describe_skipped_names_extensions_only_for_unsupported():
    skipped = [("a", "hidden"), ("b.exe", "unsupported (.exe)"), ("c", "hidden"), ("d", "hidden")]
    assert describe_skipped(skipped) == "skipped 4: 3 hidden, 1 unsupported (.exe)"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlink_loop_is_skipped_not_followed(tmp_path):
    write(tmp_path / "sub" / "doc.txt", "text")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["sub/doc.txt"]
    assert corpus.skipped == [("sub/loop", "symlink loop")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlink_out_of_the_folder_is_skipped(tmp_path):
    outside = write(tmp_path / "outside" / "private.txt", "not part of the corpus")
    root = tmp_path / "corpus"
    write(root / "doc.txt", "text")
    os.symlink(outside, root / "link.txt")
    os.symlink(outside.parent, root / "linkdir")
    corpus = load_corpus(root)
    assert [d.id for d in corpus] == ["doc.txt"]
    assert corpus.skipped == [("link.txt", "symlink out of the folder"), ("linkdir", "symlink out of the folder")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlinked_folder_inside_the_corpus_is_read_once(tmp_path):
    write(tmp_path / "real" / "doc.txt", "text")
    os.symlink(tmp_path / "real", tmp_path / "alias")  # sorts before "real", still not read twice
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["real/doc.txt"]
    assert corpus.skipped == [("alias", "duplicate (symlink to a folder already read)")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_broken_symlink_is_skipped(tmp_path):
    write(tmp_path / "doc.txt", "text")
    os.symlink(tmp_path / "gone.txt", tmp_path / "dangling.txt")
    assert load_corpus(tmp_path).skipped == [("dangling.txt", "broken symlink")]


def test_missing_path_is_an_error_naming_it(tmp_path):
    with pytest.raises(CorpusError, match=r"corpus path '.*nowhere' does not exist"):
        load_corpus(tmp_path / "nowhere")


def test_empty_folder_is_an_error_listing_readable_formats(tmp_path):
    with pytest.raises(CorpusError, match=r"no readable document in '.*' \(it is empty\); chunkopt reads \.txt, \.md"):
        load_corpus(tmp_path)


def test_folder_without_readable_documents_is_an_error_saying_what_was_skipped(tmp_path):
    write(tmp_path / "photo.jpg", "x")
    with pytest.raises(CorpusError, match=r"skipped 1: 1 unsupported \(photo\.jpg\)\); chunkopt reads"):
        load_corpus(tmp_path)


def test_corpus_error_is_a_value_error():
    assert issubclass(CorpusError, ValueError)


def test_html_document_text_is_its_visible_text(tmp_path):
    page = """<!doctype html><html><head><title>The  Title</title><meta charset="utf-8">
    <style>p { color: red }</style><script>var hidden = 1;</script></head>
    <body><!-- a comment --><h1>Heading</h1><p>First paragraph
    with <b>bold</b> words.</p><noscript>enable js</noscript><template><p>tpl</p></template>
    <p>Second paragraph.</p></body></html>"""
    write(tmp_path / "page.html", page)
    doc = load_corpus(tmp_path)["page.html"]
    assert doc.text == "The Title\n\nHeading\n\nFirst paragraph with bold words.\n\nSecond paragraph."
    assert doc.metadata["format"] == "html"


def test_html_lists_and_line_breaks_become_lines():
    assert html_to_text("<ul><li>one</li><li>two</li></ul><div>a<br>b</div>") == "one\ntwo\n\na\nb"


def test_html_pre_keeps_its_whitespace():
    assert html_to_text("<p>code:</p><pre>x  =  1\n    y</pre>") == "code:\n\nx  =  1\n    y"


def test_html_hidden_elements_are_dropped():
    assert html_to_text("<p>shown</p><div hidden>not shown</div>") == "shown"


def pdf_bytes(pypdf, pages):
    """A small PDF whose pages show the given one-line texts in Helvetica."""
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = pypdf.PdfWriter()
    for text in pages:
        page = writer.add_blank_page(width=300, height=200)
        font = DictionaryObject(
            {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
             NameObject("/BaseFont"): NameObject("/Helvetica")}
        )
        fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_pages_are_joined_by_a_blank_line(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    write(tmp_path / "paper.pdf", pdf_bytes(pypdf, ["Page one text", "Page two text"]))
    doc = load_corpus(tmp_path)["paper.pdf"]
    assert doc.text == "Page one text\n\nPage two text"
    assert doc.metadata["format"] == "pdf"


def test_pdf_without_pypdf_is_skipped_with_install_hint(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pypdf(name, *args, **kwargs):
        if name == "pypdf":
            raise ImportError("no pypdf")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pypdf)
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / "paper.pdf", b"%PDF-1.4 not read")
    assert load_corpus(tmp_path).skipped == [("paper.pdf", "install chunkopt[pdf]")]


def test_damaged_pdf_is_skipped_as_unreadable(tmp_path):
    pytest.importorskip("pypdf")
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / "broken.pdf", b"%PDF-1.4 garbage")
    (path, reason), = load_corpus(tmp_path).skipped
    assert path == "broken.pdf" and reason.startswith("unreadable (")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_file_symlinks_that_point_at_each_other_are_skipped_as_a_loop(tmp_path):
    write(tmp_path / "doc.txt", "text")
    os.symlink("loopB.txt", tmp_path / "loopA.txt")
    os.symlink("loopA.txt", tmp_path / "loopB.txt")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["doc.txt"]
    assert corpus.skipped == [("loopA.txt", "symlink loop"), ("loopB.txt", "symlink loop")]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_file_without_bom_is_named_as_such_not_binary(tmp_path, codec):
    write(tmp_path / "doc.txt", "text")
    write(tmp_path / "wide.txt", "wide text without a byte-order mark".encode(codec))
    assert load_corpus(tmp_path).skipped == [
        ("wide.txt", "not UTF-8 text, possibly UTF-16 without a byte-order mark")
    ]


def test_fingerprint_hashes_each_document_once_however_often_it_is_asked(tmp_path, monkeypatch):
    import hashlib

    import chunkopt.corpus

    write(tmp_path / "a.txt", "alpha")
    write(tmp_path / "b.txt", "beta")
    corpus = load_corpus(tmp_path)
    calls = []

    class CountingHashlib:
        @staticmethod
        def sha256(data):
            calls.append(data)
            return hashlib.sha256(data)

    monkeypatch.setattr(chunkopt.corpus, "hashlib", CountingHashlib)
    first, second = corpus.fingerprint(), corpus.fingerprint()
    assert first == second == {"a.txt": hashlib.sha256(b"alpha").hexdigest(), "b.txt": hashlib.sha256(b"beta").hexdigest()}
    assert len(calls) == 2


def test_pypdf_problems_are_one_warning_naming_the_files_not_a_log_line_each(tmp_path, caplog):
    import re

    pypdf = pytest.importorskip("pypdf")
    good = pdf_bytes(pypdf, ["Page one text"])
    # A cross-reference offset 7 bytes off: pypdf still reads the page but logs its repairs.
    damaged = re.sub(rb"startxref\s+(\d+)", lambda m: b"startxref\n" + str(int(m.group(1)) + 7).encode(), good)
    write(tmp_path / "a.pdf", damaged)
    write(tmp_path / "b.pdf", damaged)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = load_corpus(tmp_path)
    assert corpus["a.pdf"].text == "Page one text"
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].startswith("pypdf reported 4 problem(s) reading a.pdf, b.pdf; the text may be incomplete.")
    assert "incorrect startxref pointer" in messages[0]
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_pdf_page_starts_are_recorded_for_page_metadata(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    write(tmp_path / "paper.pdf", pdf_bytes(pypdf, ["Page one text", "Page two text"]))
    assert load_corpus(tmp_path)["paper.pdf"].metadata["page_starts"] == [0, len("Page one text") + 2]


def test_markdown_documents_record_their_outline(tmp_path):
    write(tmp_path / "a.md", b"# Title\n\nText.\n\n## Part\n\nMore.")
    assert load_corpus(tmp_path)["a.md"].metadata["outline"] == ((0, 1, "Title"), (16, 2, "Part"))
