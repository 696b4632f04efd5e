//! The tokenizer: split pattern, merge model, special tokens and decoding.

use crate::error::{Error, Result};

use super::hash::FastMap;
use super::merge::{MergeModel, NO_RANK};
use super::split::Pieces;

/// How many ids a vocabulary may leave unused below its largest id.
const MAX_UNUSED_IDS: usize = 1 << 20;

/// How a tokenizer's ranks were given, which decides how pairs merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantics {
    /// tiktoken ranks: a pair merges at the rank of its concatenation, and a
    /// piece that is a token is that token.
    Ranks,
    /// An ordered merges list (HF `tokenizers`, GPT-2's `merges.txt`): only
    /// listed pairs merge, at their position in the list.
    Merges,
}

/// Which special tokens `encode` turns into their ids.
#[derive(Debug, Clone)]
pub enum AllowedSpecial<'a> {
    /// Every special token.
    All,
    /// Only these; any other special token in the text is an error.
    Some(&'a [String]),
}

/// A byte-level BPE tokenizer.
#[derive(Debug, Clone)]
pub struct ByteLevelBpe {
    model: MergeModel,
    /// id -> bytes; `None` for ids no token has.
    tokens: Vec<Option<Box<[u8]>>>,
    /// bytes -> id of the ordinary tokens.
    ids: FastMap<Box<[u8]>, u32>,
    /// (text, id), in id order.
    specials: Vec<(String, u32)>,
    /// The merges in rank order, when the tokenizer came from a list of them.
    merges: Option<Vec<(u32, u32)>>,
    semantics: Semantics,
}

impl ByteLevelBpe {
    /// A tokenizer from tiktoken-style ranks: token bytes -> rank, the rank
    /// being the id. All 256 single bytes must be tokens.
    pub fn from_ranks(ranks: Vec<(Vec<u8>, u32)>, specials: Vec<(String, u32)>) -> Result<Self> {
        let ids: FastMap<Box<[u8]>, u32> = ranks
            .into_iter()
            .map(|(bytes, rank)| (bytes.into_boxed_slice(), rank))
            .collect();
        let byte_ids = byte_ids(&ids)?;
        let mut pairs = FastMap::default();
        for (bytes, &id) in &ids {
            for split in 1..bytes.len() {
                if let (Some(&left), Some(&right)) =
                    (ids.get(&bytes[..split]), ids.get(&bytes[split..]))
                {
                    MergeModel::add_pair(&mut pairs, left, right, id, id);
                }
            }
        }
        let mut model = MergeModel::new(byte_ids, pairs);
        model.set_whole(ids.clone());
        Self::assemble(model, ids, specials, None, Semantics::Ranks)
    }

    /// A tokenizer from a vocabulary (bytes -> id) and an ordered list of
    /// merges, each a pair of ids whose concatenation is in the vocabulary.
    pub fn from_merges(
        vocab: Vec<(Vec<u8>, u32)>,
        merges: Vec<(u32, u32)>,
        specials: Vec<(String, u32)>,
    ) -> Result<Self> {
        let ids: FastMap<Box<[u8]>, u32> = vocab
            .into_iter()
            .map(|(bytes, id)| (bytes.into_boxed_slice(), id))
            .collect();
        let byte_ids = byte_ids(&ids)?;
        let mut by_id: FastMap<u32, &[u8]> = FastMap::default();
        for (bytes, &id) in &ids {
            by_id.insert(id, bytes);
        }
        let mut pairs = FastMap::default();
        for (rank, &(left, right)) in merges.iter().enumerate() {
            let (Some(a), Some(b)) = (by_id.get(&left), by_id.get(&right)) else {
                return Err(Error::InvalidArgument(format!(
                    "merge {rank} refers to an id not in the vocabulary"
                )));
            };
            let joined = [*a, *b].concat();
            let Some(&id) = ids.get(joined.as_slice()) else {
                return Err(Error::InvalidArgument(format!(
                    "merge {rank}: the merged token is not in the vocabulary"
                )));
            };
            MergeModel::add_pair(&mut pairs, left, right, rank as u32, id);
        }
        let mut model = MergeModel::new(byte_ids, pairs);
        // A piece may be looked up whole only where the merges produce it.
        let mut whole = FastMap::default();
        let mut out = Vec::new();
        for (bytes, &id) in &ids {
            out.clear();
            model.merge(bytes, NO_RANK, &mut out);
            if out.len() == 1 && out[0] == id {
                whole.insert(bytes.clone(), id);
            }
        }
        model.set_whole(whole);
        Self::assemble(model, ids, specials, Some(merges), Semantics::Merges)
    }

    fn assemble(
        model: MergeModel,
        ids: FastMap<Box<[u8]>, u32>,
        mut specials: Vec<(String, u32)>,
        merges: Option<Vec<(u32, u32)>>,
        semantics: Semantics,
    ) -> Result<Self> {
        let max_id = ids
            .values()
            .chain(specials.iter().map(|(_, id)| id))
            .copied()
            .max()
            .unwrap_or(0);
        // The id table is dense, so an id far past the token count (a typo or
        // a hostile file) would ask for gigabytes: refuse it instead.
        let given = ids.len() + specials.len();
        let id_limit = given.saturating_add(MAX_UNUSED_IDS);
        if max_id as usize >= id_limit {
            return Err(Error::InvalidArgument(format!(
                "token id {max_id} is too large: {given} tokens were given, so ids must be below {id_limit}"
            )));
        }
        let mut tokens: Vec<Option<Box<[u8]>>> = vec![None; max_id as usize + 1];
        for (bytes, &id) in &ids {
            if tokens[id as usize].is_some() {
                return Err(Error::InvalidArgument(format!(
                    "token id {id} is given to more than one token"
                )));
            }
            tokens[id as usize] = Some(bytes.clone());
        }
        specials.sort_by_key(|(_, id)| *id);
        for (i, (text, id)) in specials.iter().enumerate() {
            if text.is_empty() {
                return Err(Error::InvalidArgument("a special token is empty".into()));
            }
            if specials[..i].iter().any(|(t, _)| t == text) {
                return Err(Error::InvalidArgument(format!(
                    "special token {text:?} is given twice"
                )));
            }
            match &tokens[*id as usize] {
                // HF files list added tokens in the vocabulary too.
                Some(bytes) if **bytes == *text.as_bytes() => {}
                Some(_) => {
                    return Err(Error::InvalidArgument(format!(
                        "special token {text:?} has id {id}, which another token already has"
                    )))
                }
                None => tokens[*id as usize] = Some(text.as_bytes().into()),
            }
        }
        Ok(ByteLevelBpe {
            model,
            tokens,
            ids,
            specials,
            merges,
            semantics,
        })
    }

    /// Encodes `text` with special-token text treated as plain text.
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.encode_ordinary_into(text, &mut out);
        out
    }

    /// Appends the ids of `text` (no special tokens) to `out`.
    pub fn encode_ordinary_into(&self, text: &str, out: &mut Vec<u32>) {
        for piece in Pieces::new(text) {
            self.model.encode_piece(piece.as_bytes(), out);
        }
    }

    /// Fails on a name that is not one of this tokenizer's special tokens.
    pub fn check_special_names(&self, names: &[String]) -> Result<()> {
        for name in names {
            if !self.specials().iter().any(|(s, _)| s == name) {
                return Err(Error::InvalidArgument(format!(
                    "allowed_special names {name:?}, which is not a special token of this tokenizer"
                )));
            }
        }
        Ok(())
    }

    /// Encodes `text`; allowed special tokens become their ids, and the text
    /// of any other special token is an error naming it.
    pub fn encode(&self, text: &str, allowed: &AllowedSpecial<'_>) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.encode_into(text, allowed, &mut out)?;
        Ok(out)
    }

    /// Like [`ByteLevelBpe::encode`], appending to `out`.
    pub fn encode_into(
        &self,
        text: &str,
        allowed: &AllowedSpecial<'_>,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        if self.specials.is_empty() {
            self.encode_ordinary_into(text, out);
            return Ok(());
        }
        let is_allowed = |name: &str| match allowed {
            AllowedSpecial::All => true,
            AllowedSpecial::Some(names) => names.iter().any(|n| n == name),
        };
        for (name, _) in &self.specials {
            if !is_allowed(name) && text.contains(name.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "the text contains the special token {name:?}, which is not allowed: \
                     pass allowed_special=\"all\" or a set naming it to encode it as a \
                     special token, or use encode_ordinary to encode it as plain text"
                )));
            }
        }
        let active: Vec<&(String, u32)> = self
            .specials
            .iter()
            .filter(|(name, _)| is_allowed(name))
            .collect();
        // Where each allowed special token next occurs at or after `pos`.
        let mut next_at: Vec<Option<usize>> = active
            .iter()
            .map(|(name, _)| text.find(name.as_str()))
            .collect();
        let mut pos = 0;
        loop {
            let mut best: Option<(usize, usize)> = None; // (start, index)
            for (k, at) in next_at.iter_mut().enumerate() {
                if let Some(start) = *at {
                    if start < pos {
                        *at = text[pos..].find(active[k].0.as_str()).map(|i| i + pos);
                    }
                }
                if let Some(start) = *at {
                    let longer = |b: usize| active[k].0.len() > active[b].0.len();
                    match best {
                        Some((s, b)) if s < start || (s == start && !longer(b)) => {}
                        _ => best = Some((start, k)),
                    }
                }
            }
            match best {
                Some((start, k)) => {
                    self.encode_ordinary_into(&text[pos..start], out);
                    out.push(active[k].1);
                    pos = start + active[k].0.len();
                }
                None => {
                    self.encode_ordinary_into(&text[pos..], out);
                    return Ok(());
                }
            }
        }
    }

    /// The bytes of `ids`, concatenated; an id no token has is an error.
    pub fn decode_bytes(&self, ids: &[i64]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            match usize::try_from(id).ok().and_then(|i| self.tokens.get(i)) {
                Some(Some(bytes)) => out.extend_from_slice(bytes),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "token id {id} is not in the vocabulary (ids run from 0 to {})",
                        self.tokens.len() - 1
                    )))
                }
            }
        }
        Ok(out)
    }

    /// One more than the largest id.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The id of an ordinary token or of a special token, by its bytes.
    pub fn token_to_id(&self, bytes: &[u8]) -> Option<u32> {
        self.ids.get(bytes).copied().or_else(|| {
            self.specials
                .iter()
                .find(|(name, _)| name.as_bytes() == bytes)
                .map(|(_, id)| *id)
        })
    }

    /// The bytes of token `id`.
    pub fn id_to_token(&self, id: u32) -> Option<&[u8]> {
        self.tokens.get(id as usize).and_then(|t| t.as_deref())
    }

    /// The special tokens, (text, id) in id order.
    pub fn specials(&self) -> &[(String, u32)] {
        &self.specials
    }

    /// The ordinary tokens, (bytes, id) in id order.
    pub fn vocab(&self) -> Vec<(&[u8], u32)> {
        let mut out: Vec<(&[u8], u32)> = self.ids.iter().map(|(b, &id)| (&**b, id)).collect();
        out.sort_by_key(|&(_, id)| id);
        out
    }

    /// How pairs merge: by the rank of their concatenation or by a merges list.
    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// The merges in rank order, as pairs of ids. From ranks they are found by
    /// merging each token's bytes with the pairs of lower rank, which must end
    /// in exactly two parts.
    pub fn merges(&self) -> Result<Vec<(u32, u32)>> {
        if let Some(merges) = &self.merges {
            return Ok(merges.clone());
        }
        let mut out = Vec::new();
        let mut parts = Vec::new();
        for (bytes, id) in self.vocab() {
            if bytes.len() < 2 {
                continue;
            }
            parts.clear();
            self.model.merge(bytes, id, &mut parts);
            match parts[..] {
                [left, right] => out.push((left, right)),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "token {id} cannot be written as a merge of two lower-ranked tokens"
                    )))
                }
            }
        }
        Ok(out)
    }
}

/// The ids of the 256 single bytes, which every byte-level vocabulary has.
fn byte_ids(ids: &FastMap<Box<[u8]>, u32>) -> Result<[u32; 256]> {
    let mut out = [0u32; 256];
    for b in 0..=255u8 {
        out[b as usize] = *ids.get(&[b][..]).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the vocabulary lacks the single byte 0x{b:02x}; a byte-level BPE needs all 256"
            ))
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_ranks() -> ByteLevelBpe {
        let mut ranks: Vec<(Vec<u8>, u32)> = (0..=255u8).map(|b| (vec![b], u32::from(b))).collect();
        for (i, t) in [
            "he", "ll", "hell", "hello", " w", "or", " wor", "ld", " world",
        ]
        .iter()
        .enumerate()
        {
            ranks.push((t.as_bytes().to_vec(), 256 + i as u32));
        }
        ByteLevelBpe::from_ranks(ranks, vec![("<|end|>".into(), 300)]).unwrap()
    }

    #[test]
    fn encodes_and_decodes() {
        let bpe = toy_ranks();
        let ids = bpe.encode_ordinary("hello world");
        assert_eq!(ids, [259, 264]);
        assert_eq!(bpe.decode_bytes(&[259, 264]).unwrap(), b"hello world");
        assert!(bpe.decode_bytes(&[299]).is_err());
        assert!(bpe.decode_bytes(&[-1]).is_err());
    }

    #[test]
    fn an_id_far_past_the_token_count_is_refused_without_allocating() {
        let ranks: Vec<(Vec<u8>, u32)> = (0..=255u8).map(|b| (vec![b], u32::from(b))).collect();
        let specials = vec![("<|x|>".to_string(), 4_000_000_000)];
        let err = ByteLevelBpe::from_ranks(ranks.clone(), specials).unwrap_err();
        assert!(
            err.to_string().contains("token id 4000000000 is too large"),
            "{err}"
        );
        let mut far = ranks;
        far.push((b"ab".to_vec(), u32::MAX));
        assert!(ByteLevelBpe::from_ranks(far, vec![]).is_err());
    }

    #[test]
    fn special_tokens() {
        let bpe = toy_ranks();
        let text = "hello<|end|> world";
        assert!(bpe.encode(text, &AllowedSpecial::Some(&[])).is_err());
        assert_eq!(
            bpe.encode(text, &AllowedSpecial::All).unwrap(),
            [259, 300, 264]
        );
        let plain = bpe.encode_ordinary(text);
        assert_eq!(
            bpe.decode_bytes(&plain.iter().map(|&i| i64::from(i)).collect::<Vec<_>>())
                .unwrap(),
            text.as_bytes()
        );
    }

    #[test]
    fn merges_derived_from_ranks_rebuild_the_same_tokenizer() {
        let bpe = toy_ranks();
        let merges = bpe.merges().unwrap();
        let vocab = bpe
            .vocab()
            .into_iter()
            .map(|(b, id)| (b.to_vec(), id))
            .collect();
        let again = ByteLevelBpe::from_merges(vocab, merges, bpe.specials().to_vec()).unwrap();
        for text in ["hello world", "hellhello  worldld", "he ll o"] {
            assert_eq!(bpe.encode_ordinary(text), again.encode_ordinary(text));
        }
    }
}
