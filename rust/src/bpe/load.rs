//! Loaders: tiktoken ranks, GPT-2's `vocab.json` + `merges.txt`, and HF
//! `tokenizer.json`. Malformed content is an error naming file and line.

use std::fs;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::error::{Error, Result};

use super::byte_map::string_to_bytes;
use super::hash::FastMap;
use super::tokenizer::ByteLevelBpe;

fn read(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..bad];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let column = bad
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
        Error::InvalidUtf8 {
            path: path.to_path_buf(),
            line,
            column,
        }
    })
}

fn malformed(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        line: line as u64,
        message: message.into(),
    }
}

/// Reads tiktoken's format: one `base64-token rank` per line.
pub fn read_tiktoken(path: &Path) -> Result<Vec<(Vec<u8>, u32)>> {
    let text = read(path)?;
    let mut ranks = Vec::new();
    let mut seen_rank: FastMap<u32, usize> = FastMap::default();
    let mut seen_token: FastMap<Vec<u8>, usize> = FastMap::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [token, rank] = parts[..] else {
            return Err(malformed(
                path,
                n,
                format!(
                    "expected `<base64 token> <rank>`, found {} fields",
                    parts.len()
                ),
            ));
        };
        let bytes = STANDARD
            .decode(token)
            .map_err(|e| malformed(path, n, format!("bad base64 {token:?}: {e}")))?;
        let rank: u32 = rank
            .parse()
            .map_err(|_| malformed(path, n, format!("rank {rank:?} is not an integer")))?;
        if let Some(first) = seen_rank.insert(rank, n) {
            return Err(malformed(
                path,
                n,
                format!("rank {rank} already given on line {first}"),
            ));
        }
        if let Some(first) = seen_token.insert(bytes.clone(), n) {
            return Err(malformed(
                path,
                n,
                format!("token {token} already given on line {first}"),
            ));
        }
        ranks.push((bytes, rank));
    }
    Ok(ranks)
}

/// Loads a tokenizer from a tiktoken ranks file.
pub fn from_tiktoken(path: &Path, specials: Vec<(String, u32)>) -> Result<ByteLevelBpe> {
    let ranks = read_tiktoken(path)?;
    ByteLevelBpe::from_ranks(ranks, specials).map_err(|e| in_file(path, e))
}

/// Puts the file's name in front of an error about its content as a whole.
fn in_file(path: &Path, err: Error) -> Error {
    match err {
        Error::InvalidArgument(message) => malformed(path, 0, message),
        other => other,
    }
}

/// A vocabulary from a JSON object `{ "mapped token": id }`. Tokens that are
/// not byte-level strings (`<|endoftext|>` is one, being plain ASCII that
/// maps to itself) are read as their UTF-8 bytes.
fn vocab_from_json(
    path: &Path,
    object: &serde_json::Map<String, Value>,
) -> Result<Vec<(Vec<u8>, u32)>> {
    let mut vocab = Vec::with_capacity(object.len());
    let mut seen: FastMap<u32, &str> = FastMap::default();
    for (token, id) in object {
        let id = id
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|&v| v < u32::MAX)
            .ok_or_else(|| {
                malformed(
                    path,
                    0,
                    format!("the id of token {token:?} is not a valid integer: {id}"),
                )
            })?;
        if let Some(first) = seen.insert(id, token) {
            return Err(malformed(
                path,
                0,
                format!("tokens {first:?} and {token:?} have the same id {id}"),
            ));
        }
        let bytes = string_to_bytes(token).unwrap_or_else(|| token.as_bytes().to_vec());
        vocab.push((bytes, id));
    }
    Ok(vocab)
}

/// Turns merges given as mapped strings into id pairs.
fn merge_ids(
    path: &Path,
    vocab: &[(Vec<u8>, u32)],
    merges: Vec<(usize, String, String)>,
) -> Result<Vec<(u32, u32)>> {
    let ids: FastMap<&[u8], u32> = vocab.iter().map(|(b, id)| (b.as_slice(), *id)).collect();
    let mut out = Vec::with_capacity(merges.len());
    for (line, left, right) in merges {
        let lookup = |part: &str| {
            string_to_bytes(part)
                .and_then(|bytes| ids.get(bytes.as_slice()).copied())
                .ok_or_else(|| malformed(path, line, format!("{part:?} is not in the vocabulary")))
        };
        let (a, b) = (lookup(&left)?, lookup(&right)?);
        let joined: Vec<u8> = [string_to_bytes(&left), string_to_bytes(&right)]
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        if !ids.contains_key(joined.as_slice()) {
            return Err(malformed(
                path,
                line,
                format!("the merge of {left:?} and {right:?} is not in the vocabulary"),
            ));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// Loads GPT-2's `vocab.json` and `merges.txt`.
pub fn from_files(
    vocab_path: &Path,
    merges_path: &Path,
    specials: Vec<(String, u32)>,
) -> Result<ByteLevelBpe> {
    let text = read(vocab_path)?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| malformed(vocab_path, e.line(), format!("invalid JSON: {e}")))?;
    let Value::Object(object) = json else {
        return Err(malformed(
            vocab_path,
            0,
            "expected a JSON object of token: id",
        ));
    };
    let vocab = vocab_from_json(vocab_path, &object)?;
    let mut merges = Vec::new();
    for (i, line) in read(merges_path)?.lines().enumerate() {
        let n = i + 1;
        if (n == 1 && line.starts_with("#version")) || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [left, right] = parts[..] else {
            return Err(malformed(
                merges_path,
                n,
                format!(
                    "expected two tokens separated by a space, found {} parts",
                    parts.len()
                ),
            ));
        };
        merges.push((n, left.to_owned(), right.to_owned()));
    }
    let merges = merge_ids(merges_path, &vocab, merges)?;
    ByteLevelBpe::from_merges(vocab, merges, specials).map_err(|e| in_file(merges_path, e))
}

/// Loads an HF `tokenizer.json` whose model is a byte-level BPE; its added
/// tokens become special tokens.
pub fn from_tokenizer_json(path: &Path) -> Result<ByteLevelBpe> {
    let text = read(path)?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| malformed(path, e.line(), format!("invalid JSON: {e}")))?;
    let model = &json["model"];
    if let Some(kind) = model.get("type").and_then(Value::as_str) {
        if kind != "BPE" {
            return Err(malformed(path, 0, format!("the model is {kind}, not BPE")));
        }
    }
    let pre = &json["pre_tokenizer"];
    let is_byte_level = |v: &Value| v.get("type").and_then(Value::as_str) == Some("ByteLevel");
    let byte_level = is_byte_level(pre)
        || pre["pretokenizers"]
            .as_array()
            .is_some_and(|list| list.iter().any(is_byte_level));
    if !byte_level {
        return Err(malformed(path, 0, "the pre-tokenizer is not ByteLevel"));
    }
    let Some(object) = model["vocab"].as_object() else {
        return Err(malformed(
            path,
            0,
            "model.vocab is missing or not an object",
        ));
    };
    let vocab = vocab_from_json(path, object)?;
    let Some(list) = model["merges"].as_array() else {
        return Err(malformed(path, 0, "model.merges is missing or not a list"));
    };
    let mut merges = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        // Older files write "a b", newer ones ["a", "b"]; "line" is the merge's
        // position in the list here, counting from 1.
        let parts: Option<Vec<String>> = match item {
            Value::String(s) => Some(s.split(' ').map(str::to_owned).collect()),
            Value::Array(a) => a.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => None,
        };
        match parts.as_deref() {
            Some([left, right]) => merges.push((i + 1, left.clone(), right.clone())),
            _ => {
                return Err(malformed(
                    path,
                    i + 1,
                    format!("merge {} is not a pair of tokens: {item}", i + 1),
                ))
            }
        }
    }
    let merges = merge_ids(path, &vocab, merges)?;
    let mut specials = Vec::new();
    for added in json["added_tokens"].as_array().into_iter().flatten() {
        let content = added["content"].as_str();
        let id = added["id"].as_u64().and_then(|v| u32::try_from(v).ok());
        match (content, id) {
            (Some(content), Some(id)) => specials.push((content.to_owned(), id)),
            _ => return Err(malformed(path, 0, format!("bad added token: {added}"))),
        }
    }
    ByteLevelBpe::from_merges(vocab, merges, specials).map_err(|e| in_file(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Bytes that are sometimes random and sometimes almost a valid file:
    /// a valid line mutated, so the readers' deeper checks are reached too.
    fn untrusted_bytes(rng: &mut Rng, valid: &[u8]) -> Vec<u8> {
        let mut data = if rng.below(2) == 0 {
            valid.to_vec()
        } else {
            (0..rng.below(200)).map(|_| rng.next_u32() as u8).collect()
        };
        for _ in 0..rng.below(4) {
            if data.is_empty() {
                break;
            }
            let at = rng.index(data.len());
            data[at] = rng.next_u32() as u8;
        }
        data
    }

    #[test]
    fn every_reader_survives_random_and_mutated_files() {
        let dir = std::env::temp_dir().join(format!("ptm_fast_fuzz_{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let ranks: String = (0..=255u8)
            .map(|b| format!("{} {b}\n", STANDARD.encode([b])))
            .collect();
        let vocab = br#"{"a": 0, "b": 1, "ab": 2, "<|e|>": 3}"#;
        let merges = b"#version: 0.2\na b\n";
        let json =
            br#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": []}"#;
        let mut rng = Rng::new(11);
        let (tiktoken, vocab_path, merges_path, json_path) = (
            dir.join("r.tiktoken"),
            dir.join("vocab.json"),
            dir.join("merges.txt"),
            dir.join("tokenizer.json"),
        );
        for _ in 0..300 {
            fs::write(&tiktoken, untrusted_bytes(&mut rng, ranks.as_bytes())).unwrap();
            fs::write(&vocab_path, untrusted_bytes(&mut rng, vocab)).unwrap();
            fs::write(&merges_path, untrusted_bytes(&mut rng, merges)).unwrap();
            fs::write(&json_path, untrusted_bytes(&mut rng, json)).unwrap();
            // Ok or Err are both fine; a panic or an abort fails the test.
            let _ = from_tiktoken(&tiktoken, vec![("<|x|>".into(), rng.next_u32())]);
            let _ = from_files(&vocab_path, &merges_path, vec![]);
            let _ = from_tokenizer_json(&json_path);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
