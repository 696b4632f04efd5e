//! What each vocabulary id means to masked-LM pretraining, read from the
//! WordPiece vocabulary itself: the special tokens the pipeline writes, the
//! ids that are never masked nor drawn as random replacements, and the `##`
//! continuations that whole-word masking keeps with their word.

use super::SpecialIds;
use crate::error::Result;
use crate::wordpiece::pre_tokenizer::{pre_tokenize, role, Role};
use crate::wordpiece::vocab::CONTINUATION_PREFIX;
use crate::wordpiece::WordPieceTokenizer;

/// Per-id roles of one vocabulary.
#[derive(Debug, Clone)]
pub struct TokenRoles {
    pub special: SpecialIds,
    /// `reserved[id]`: a special token of the tokenizer (`[PAD]`, `[UNK]`,
    /// `[CLS]`, `[SEP]`, `[MASK]`) or a token the tokenizer can never produce
    /// from text (such as `[unused5]`, which the pre-tokenizer would split).
    /// Reserved ids are never masked and never drawn as replacements.
    reserved: Vec<bool>,
    /// `continuation[id]`: the token is a `##` piece.
    continuation: Vec<bool>,
    /// The ids random replacements are drawn from: every id not reserved.
    replacements: Vec<u32>,
}

/// Whether WordPiece can emit `token`: a word-initial piece must survive the
/// pre-tokenizer whole, a `##` piece must hold no space or punctuation.
fn producible(token: &str) -> bool {
    match token.strip_prefix(CONTINUATION_PREFIX) {
        Some(rest) if !rest.is_empty() => rest.chars().all(|c| role(c) == Role::Word),
        _ => matches!(pre_tokenize(token).as_slice(), [only] if only.text == token),
    }
}

impl TokenRoles {
    /// The roles of `tokenizer`'s vocabulary; it must hold `[CLS]`, `[SEP]`,
    /// `[MASK]` and `[PAD]`.
    pub fn from_tokenizer(tokenizer: &WordPieceTokenizer) -> Result<Self> {
        let special = SpecialIds {
            cls: tokenizer.special_id("[CLS]")?,
            sep: tokenizer.special_id("[SEP]")?,
            mask: tokenizer.special_id("[MASK]")?,
            pad: tokenizer.special_id("[PAD]")?,
        };
        let tokens = tokenizer.vocab().tokens();
        let mut reserved: Vec<bool> = tokens.iter().map(|t| !producible(t)).collect();
        for &(_, id) in tokenizer.special_tokens() {
            reserved[id as usize] = true;
        }
        let continuation = tokens
            .iter()
            .map(|t| t.len() > CONTINUATION_PREFIX.len() && t.starts_with(CONTINUATION_PREFIX))
            .collect();
        let replacements = (0..tokens.len() as u32)
            .filter(|&id| !reserved[id as usize])
            .collect();
        Ok(TokenRoles {
            special,
            reserved,
            continuation,
            replacements,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.reserved.len()
    }

    /// Never masked, never a replacement. Ids outside the vocabulary count as reserved.
    #[inline]
    pub fn is_reserved(&self, id: u32) -> bool {
        self.reserved.get(id as usize).copied().unwrap_or(true)
    }

    #[inline]
    pub fn is_continuation(&self, id: u32) -> bool {
        self.continuation.get(id as usize).copied().unwrap_or(false)
    }

    /// The ids random replacements come from (may be empty for a vocabulary
    /// of special tokens only).
    pub fn replacements(&self) -> &[u32] {
        &self.replacements
    }

    /// The reserved ids, in order.
    pub fn reserved_ids(&self) -> Vec<u32> {
        (0..self.reserved.len() as u32)
            .filter(|&id| self.reserved[id as usize])
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::Error;
    use crate::wordpiece::{NormalizerOptions, Vocab};

    /// A small uncased vocabulary laid out like BERT's: reserved ids first.
    pub(crate) fn tokenizer() -> WordPieceTokenizer {
        let mut tokens: Vec<String> = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]"]
            .iter()
            .chain(&["[SEP]", "[MASK]", "!", "##", "a", "b"])
            .map(|t| t.to_string())
            .collect();
        for word in [
            "un", "##believ", "##able", "story", "the", "news", "day", "night",
        ] {
            tokens.push(word.to_string());
        }
        for k in 0..40 {
            tokens.push(format!("w{k}"));
        }
        let vocab =
            Vocab::from_tokens(tokens, |l, m| Error::InvalidArgument(format!("{l}: {m}"))).unwrap();
        WordPieceTokenizer::new(vocab, NormalizerOptions::bert(true)).unwrap()
    }

    #[test]
    fn specials_and_unproducible_tokens_are_reserved() {
        let tok = tokenizer();
        let roles = TokenRoles::from_tokenizer(&tok).unwrap();
        let id = |t: &str| tok.vocab().token_to_id(t).unwrap();
        assert_eq!(
            (
                roles.special.cls,
                roles.special.sep,
                roles.special.mask,
                roles.special.pad
            ),
            (id("[CLS]"), id("[SEP]"), id("[MASK]"), id("[PAD]"))
        );
        // [PAD] [unused0] [unused1] [UNK] [CLS] [SEP] [MASK], and "##" (two marks).
        assert_eq!(roles.reserved_ids(), [0, 1, 2, 3, 4, 5, 6, id("##")]);
        assert!(!roles.is_reserved(id("!")) && !roles.is_reserved(id("##able")));
        assert!(roles.is_continuation(id("##able")) && !roles.is_continuation(id("##")));
        assert!(!roles.is_continuation(id("un")));
        assert!(roles.replacements().iter().all(|&r| !roles.is_reserved(r)));
        assert_eq!(roles.replacements().len() + 8, roles.vocab_size());
        assert!(roles.is_reserved(10_000), "outside the vocabulary");
    }

    #[test]
    fn a_vocabulary_without_mask_is_an_error() {
        let vocab = Vocab::from_tokens(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"]
                .iter()
                .map(|t| t.to_string())
                .collect(),
            |l, m| Error::InvalidArgument(format!("{l}: {m}")),
        )
        .unwrap();
        let tok = WordPieceTokenizer::new(vocab, NormalizerOptions::bert(true)).unwrap();
        let err = TokenRoles::from_tokenizer(&tok).unwrap_err();
        assert!(err.to_string().contains("no [MASK] token"), "{err}");
    }
}
