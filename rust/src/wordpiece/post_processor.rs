//! Post-processing: truncation, `[CLS] A [SEP] (B [SEP])` with type ids, and
//! padding. The result is an [`Encoding`].

use super::model::Token;
use crate::batch_encoding::longest_first;
use crate::error::{Error, Result};

/// One encoded text (or pair of texts), ready for a BERT model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    /// 0 for the first text and its special tokens, 1 for the second.
    pub type_ids: Vec<u32>,
    /// Code-point spans in the original text of the sequence the token comes
    /// from; `(0, 0)` for special and padding tokens.
    pub offsets: Vec<(u32, u32)>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<u32>,
}

impl Encoding {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn push(&mut self, id: u32, type_id: u32, offsets: (u32, u32)) {
        self.ids.push(id);
        self.type_ids.push(type_id);
        self.offsets.push(offsets);
        self.attention_mask.push(1);
    }

    /// Pads on the right to `length` tokens (nothing if already as long).
    pub fn pad(&mut self, length: usize, pad_id: u32) {
        if self.len() < length {
            self.ids.resize(length, pad_id);
            self.type_ids.resize(length, 0);
            self.offsets.resize(length, (0, 0));
            self.attention_mask.resize(length, 0);
        }
    }
}

/// The ids of `[CLS]` and `[SEP]`, when special tokens are added.
#[derive(Debug, Clone, Copy)]
pub struct Specials {
    pub cls: u32,
    pub sep: u32,
}

/// Builds the encoding of `a` (and `b`): truncated to `max_length` tokens in
/// all (special tokens included), with `[CLS]`/`[SEP]` when `specials` is
/// given.
pub fn post_process(
    mut a: Vec<Token>,
    b: Option<Vec<Token>>,
    specials: Option<Specials>,
    max_length: Option<usize>,
) -> Result<Encoding> {
    let added = match (specials.is_some(), b.is_some()) {
        (false, _) => 0,
        (true, false) => 2,
        (true, true) => 3,
    };
    let mut b = b;
    if let Some(max_length) = max_length {
        if max_length < added {
            return Err(Error::InvalidArgument(format!(
                "max_length={max_length} leaves no room: the special tokens alone take {added}"
            )));
        }
        let budget = max_length - added;
        match b.as_mut() {
            None => a.truncate(budget),
            Some(b) => {
                let (na, nb) = longest_first(a.len(), b.len(), budget);
                a.truncate(na);
                b.truncate(nb);
            }
        }
    }
    let total = a.len() + b.as_ref().map_or(0, Vec::len) + added;
    let mut enc = Encoding {
        ids: Vec::with_capacity(total),
        type_ids: Vec::with_capacity(total),
        offsets: Vec::with_capacity(total),
        attention_mask: Vec::with_capacity(total),
    };
    if let Some(s) = specials {
        enc.push(s.cls, 0, (0, 0));
    }
    for t in &a {
        enc.push(t.id, 0, (t.start, t.end));
    }
    if let Some(s) = specials {
        enc.push(s.sep, 0, (0, 0));
    }
    if let Some(b) = &b {
        for t in b {
            enc.push(t.id, 1, (t.start, t.end));
        }
        if let Some(s) = specials {
            enc.push(s.sep, 1, (0, 0));
        }
    }
    Ok(enc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(n: u32) -> Vec<Token> {
        (0..n)
            .map(|i| Token {
                id: 10 + i,
                start: i,
                end: i + 1,
            })
            .collect()
    }

    #[test]
    fn pair_with_specials_and_padding() {
        let s = Specials { cls: 1, sep: 2 };
        let mut e = post_process(toks(3), Some(toks(2)), Some(s), Some(6)).unwrap();
        assert_eq!(e.ids, [1, 10, 11, 2, 10, 2]);
        assert_eq!(e.type_ids, [0, 0, 0, 0, 1, 1]);
        e.pad(8, 0);
        assert_eq!(e.attention_mask, [1, 1, 1, 1, 1, 1, 0, 0]);
        assert!(post_process(toks(3), Some(toks(2)), Some(s), Some(2)).is_err());
    }
}
