//! Saving a tokenizer as `vocab.json`, `merges.txt` and `tokenizer.json`
//! (the files HF `tokenizers` and GPT-2 use). Each file is written to a
//! temporary name in the same folder and renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::{Error, Result};

use super::byte_map::{byte_chars, bytes_to_string};
use super::tokenizer::ByteLevelBpe;

/// Writes `contents` to `path` via a temporary file and a rename.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Saves `bpe` into `dir` (created if missing); returns the three paths.
pub fn save(bpe: &ByteLevelBpe, dir: &Path) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let chars = byte_chars();
    let merges = bpe.merges()?;
    let name = |id: u32| {
        bpe.id_to_token(id)
            .map(|b| bytes_to_string(b, &chars))
            .unwrap_or_default()
    };

    // vocab.json in id order: ordinary tokens mapped, special tokens as text.
    let mut entries: Vec<(String, u32)> = bpe
        .vocab()
        .into_iter()
        .map(|(b, id)| (bytes_to_string(b, &chars), id))
        .collect();
    for (text, id) in bpe.specials() {
        if !entries.iter().any(|(_, i)| i == id) {
            entries.push((text.clone(), *id));
        }
    }
    entries.sort_by_key(|(_, id)| *id);
    let mut vocab = serde_json::Map::new();
    for (token, id) in &entries {
        vocab.insert(token.clone(), json!(id));
    }
    let vocab_json =
        serde_json::to_string(&vocab).map_err(|e| Error::InvalidArgument(e.to_string()))?;

    let merge_lines: Vec<String> = merges
        .iter()
        .map(|&(a, b)| format!("{} {}", name(a), name(b)))
        .collect();
    let mut merges_txt = String::from("#version: 0.2\n");
    for line in &merge_lines {
        merges_txt.push_str(line);
        merges_txt.push('\n');
    }

    let added: Vec<_> = bpe
        .specials()
        .iter()
        .map(|(text, id)| {
            json!({"id": id, "content": text, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false,
                            "trim_offsets": true, "use_regex": true});
    let tokenizer = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": byte_level,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": false,
                           "trim_offsets": false, "use_regex": true},
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": null,
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merge_lines,
        },
    });
    let tokenizer_json =
        serde_json::to_string(&tokenizer).map_err(|e| Error::InvalidArgument(e.to_string()))?;

    let paths = vec![
        dir.join("vocab.json"),
        dir.join("merges.txt"),
        dir.join("tokenizer.json"),
    ];
    write_atomically(&paths[0], vocab_json.as_bytes())?;
    write_atomically(&paths[1], merges_txt.as_bytes())?;
    write_atomically(&paths[2], tokenizer_json.as_bytes())?;
    Ok(paths)
}
