//! Decoding ids back to text: pieces joined with spaces, `##` pieces glued to
//! the previous one, and the usual clean-up of spaces before punctuation and
//! English contractions.

use super::vocab::CONTINUATION_PREFIX;

/// Removes the spaces tokenization put before punctuation and contractions.
fn clean_up(piece: &str) -> String {
    const RULES: [(&str, &str); 11] = [
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" do not", " don't"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ];
    let mut text = piece.to_owned();
    for (from, to) in RULES {
        if text.contains(from) {
            text = text.replace(from, to);
        }
    }
    text
}

/// Joins token strings into text. Each piece is cleaned on its own, after its
/// separator is attached, which is how the reference decoder behaves.
pub fn decode_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let piece = if i == 0 {
            token.to_owned()
        } else if let Some(rest) = token.strip_prefix(CONTINUATION_PREFIX) {
            rest.to_owned()
        } else {
            format!(" {token}")
        };
        out.push_str(&clean_up(&piece));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_cleans() {
        let t = [
            "hello", ",", "un", "##aff", "##able", "world", "!", "isn", "'", "t",
        ];
        assert_eq!(decode_tokens(t), "hello, unaffable world! isn ' t");
        assert_eq!(decode_tokens(["##a", "b"]), "##a b");
    }
}
