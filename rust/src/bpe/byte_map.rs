//! GPT-2's reversible mapping between bytes and printable characters, used
//! by the `vocab.json` / `merges.txt` / `tokenizer.json` file formats.
//!
//! Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls,
//! space, soft hyphen, ...) take the characters from U+0100 upwards, in byte
//! order.

use std::sync::OnceLock;

/// Whether byte `b` is written as the character with the same number.
fn stands_for_itself(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The character that stands for each byte.
pub fn byte_chars() -> [char; 256] {
    let mut out = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        out[b as usize] = if stands_for_itself(b) {
            char::from(b)
        } else {
            let c = char::from_u32(next).expect("U+0100..U+0143 are characters");
            next += 1;
            c
        };
    }
    out
}

/// Writes `bytes` as the mapped string.
pub fn bytes_to_string(bytes: &[u8], chars: &[char; 256]) -> String {
    bytes.iter().map(|&b| chars[b as usize]).collect()
}

/// Reads a mapped string back into bytes; `None` when a character is not one
/// of the 256 that stand for bytes.
pub fn string_to_bytes(text: &str) -> Option<Vec<u8>> {
    static INVERSE: OnceLock<[Option<u8>; 256 + 68]> = OnceLock::new();
    let inverse = INVERSE.get_or_init(|| {
        let mut table = [None; 256 + 68];
        for (b, c) in byte_chars().iter().enumerate() {
            table[*c as usize] = Some(b as u8);
        }
        table
    });
    text.chars()
        .map(|c| inverse.get(c as usize).copied().flatten())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_byte_reversibly() {
        let chars = byte_chars();
        let all: Vec<u8> = (0..=255).collect();
        let text = bytes_to_string(&all, &chars);
        assert_eq!(text.chars().count(), 256);
        assert_eq!(string_to_bytes(&text).unwrap(), all);
        assert_eq!(chars[b' ' as usize], 'Ġ');
        assert_eq!(chars[b'\n' as usize], 'Ċ');
        assert_eq!(chars[b'A' as usize], 'A');
        assert!(string_to_bytes("a\u{0144}").is_none());
        assert!(string_to_bytes("a b").is_none());
    }
}
