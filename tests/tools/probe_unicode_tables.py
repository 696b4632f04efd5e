"""Regenerate rust/src/wordpiece/unicode_tables.rs by probing the reference tokenizer.

Run with Hugging Face ``tokenizers`` installed; prints the Rust tables to stdout:

    python tests/tools/probe_unicode_tables.py > rust/src/wordpiece/unicode_tables.rs

Every code point is passed through the reference's BERT normalizer and pre-tokenizer to see
whether it is removed by cleaning, split as punctuation, dropped as a non-spacing mark when
accents are stripped, or spaced as a CJK ideograph.
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
//! inclusive ranges.
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
    tables: dict[str, list[int]] = {
        "OTHER": [],
        "PUNCTUATION": [],
        "NONSPACING_MARK": [],
        "CJK": [],
    }
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
