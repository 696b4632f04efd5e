"""Probe the reference BERT normalizer / pre-tokenizer for per-code-point classes."""
import sys
from tokenizers import normalizers, pre_tokenizers

clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
cjk = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
pre = pre_tokenizers.BertPreTokenizer()
import unicodedata
other, punct, mn, chinese = [], [], [], []
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    if clean.normalize_str(c) == "":
        other.append(cp)
    if cjk.normalize_str(c) == f" {c} ":
        chinese.append(cp)
    if unicodedata.normalize("NFD", c) == c and strip.normalize_str(c) == "":
        mn.append(cp)
    if not c.isspace() and len(pre.pre_tokenize_str("a" + c + "a")) == 3:
        punct.append(cp)

def ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out

def emit(name, cps):
    r = ranges(cps)
    lines = [f"pub(super) const {name}: &[(u32, u32)] = &["]
    for a, b in r:
        lines.append(f"    (0x{a:04X}, 0x{b:04X}),")
    lines.append("];")
    return "\n".join(lines), len(r)

for name, cps in [("OTHER", other), ("PUNCTUATION", punct), ("NONSPACING_MARK", mn), ("CJK", chinese)]:
    text, n = emit(name, cps)
    print(name, n, file=sys.stderr)
    print(text)
    print()
