"""Regenerate rust/src/wordpiece/unicode_tables.rs by probing the reference tokenizer.

Run with Hugging Face ``tokenizers`` installed; prints the Rust tables to stdout:

    python tests/tools/probe_unicode_tables.py > rust/src/wordpiece/unicode_tables.rs

Every code point is passed through the reference's BERT normalizer and pre-tokenizer to see
whether it is removed by cleaning, split as punctuation, dropped as a non-spacing mark when
accents are stripped, or spaced as a CJK ideograph; and through its NFD to see whether it
decomposes and whether canonical ordering moves it (a non-starter).
"""

from __future__ import annotations

import unicodedata

from tokenizers import normalizers, pre_tokenizers

HEADER = """\
//! Unicode property tables, as BERT's reference tokenizer sees them.
//!
//! The reference classifies characters with tables of an older Unicode
//! version (about 8.0) than the Rust standard library or the
//! `unicode-general-category` crate, and it counts "other" as Cc, Cf and Co
//! only (unassigned code points are kept). Parity on arbitrary text needs the
//! same view, so these ranges were produced by probing the reference
//! normalizer and pre-tokenizer once per code point
//! (`tests/tools/probe_unicode_tables.py`). Each table is a sorted list of
//! inclusive ranges. DECOMPOSES and NONSTARTER say which characters the
//! reference's NFD knows: newer ones are neither decomposed nor reordered.
"""


def bert_normalizer(**flags: bool) -> normalizers.BertNormalizer:
    options = dict(clean_text=False, handle_chinese_chars=False, strip_accents=False)
    options.update(flags)
    return normalizers.BertNormalizer(lowercase=False, **options)


def classify() -> dict[str, list[int]]:
    clean = bert_normalizer(clean_text=True)
    cjk = bert_normalizer(handle_chinese_chars=True)
    strip = bert_normalizer(strip_accents=True)
    pre = pre_tokenizers.BertPreTokenizer()
    nfd = normalizers.NFD()
    names = ["OTHER", "PUNCTUATION", "NONSPACING_MARK", "CJK", "DECOMPOSES", "NONSTARTER"]
    tables: dict[str, list[int]] = {name: [] for name in names}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if clean.normalize_str(c) == "":
            tables["OTHER"].append(cp)
        if cjk.normalize_str(c) == f" {c} ":
            tables["CJK"].append(cp)
        if unicodedata.normalize("NFD", c) == c and strip.normalize_str(c) == "":
            tables["NONSPACING_MARK"].append(cp)
        if not c.isspace() and len(pre.pre_tokenize_str(f"a{c}a")) == 3:
            tables["PUNCTUATION"].append(cp)
        if nfd.normalize_str(c) != c:
            tables["DECOMPOSES"].append(cp)
        # Canonical ordering moves a non-starter before a mark of a higher class
        # (U+0345 has 240) or after one of a lower class (U+0301 has 230).
        elif nfd.normalize_str(f"a\u0345{c}") == f"a{c}\u0345" or (
            nfd.normalize_str(f"a{c}\u0301") == f"a\u0301{c}"
        ):
            tables["NONSTARTER"].append(cp)
    return tables


def ranges(cps: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def main() -> None:
    parts = [HEADER]
    for name, cps in classify().items():
        rows = "".join(f"    (0x{a:04X}, 0x{b:04X}),\n" for a, b in ranges(cps))
        parts.append(f"\npub(super) const {name}: &[(u32, u32)] = &[\n{rows}];\n")
    print("".join(parts), end="")


if __name__ == "__main__":
    main()
