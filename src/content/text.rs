//! Bytes → text a feed can carry: strict UTF-8, and no characters that
//! XML 1.0 forbids (they would make every feed containing them unreadable).

use crate::diagnostic::{Diagnostic, line_of_offset};
use std::path::Path;

/// Decodes `bytes` as UTF-8, drops a leading byte-order mark and every
/// character XML 1.0 forbids, and warns about what was dropped.
///
/// Invalid UTF-8 is an error naming the line of the first bad byte: guessing
/// an encoding would silently garble a writer's text.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<(String, Option<Diagnostic>), Diagnostic> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
        let line = line_of_offset(&prefix, prefix.len());
        Diagnostic::error(path, "this file is not valid UTF-8 text; save it with the UTF-8 encoding")
            .at(Some(line), None)
    })?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    Ok(strip_forbidden(path, text))
}

/// Whether XML 1.0 (§2.2 `Char`) allows `c`. Rust `char`s are never
/// surrogates, so the rest is the C0 controls and U+FFFE/U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn strip_forbidden(path: &Path, text: String) -> (String, Option<Diagnostic>) {
    let Some(first) = text.find(|c| !is_xml_char(c)) else {
        return (text, None);
    };
    let mut removed = Vec::new();
    let clean: String = text
        .chars()
        .filter(|&c| {
            let keep = is_xml_char(c);
            if !keep {
                removed.push(c);
            }
            keep
        })
        .collect();
    let mut codes: Vec<String> = removed.iter().map(|c| format!("U+{:04X}", u32::from(*c))).collect();
    codes.dedup();
    let warning = Diagnostic::warning(
        path,
        format!(
            "removed {} invisible control character(s) that feeds cannot carry ({})",
            removed.len(),
            codes.join(", ")
        ),
    )
    .at(Some(line_of_offset(&text, first)), None);
    (clean, Some(warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_forbidden_characters_and_names_the_line() {
        let (text, warning) =
            decode(Path::new("a.md"), "ok\nbad\u{b}\u{1b} x\u{fffe}".as_bytes().to_vec()).unwrap();
        assert_eq!(text, "ok\nbad x");
        let warning = warning.unwrap();
        assert_eq!(warning.line, Some(2));
        assert!(warning.message.contains("U+000B, U+001B, U+FFFE"), "{}", warning.message);
    }

    #[test]
    fn invalid_utf8_is_an_error_on_its_line() {
        let err = decode(Path::new("a.md"), b"one\ntwo \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.is_error());
    }

    #[test]
    fn keeps_korean_emoji_and_whitespace() {
        let s = "\u{feff}10화. 어디서부터 🌙\t\r\n";
        let (text, warning) = decode(Path::new("a.md"), s.as_bytes().to_vec()).unwrap();
        assert_eq!(text, "10화. 어디서부터 🌙\t\r\n");
        assert!(warning.is_none());
    }
}
