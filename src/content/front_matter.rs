//! Splits an episode file into front matter and body, and parses the front
//! matter (TOML between `+++` lines, YAML between `---` lines) into format-
//! neutral [`Fields`]. Which keys are allowed and what they mean is the
//! model's business; this module only knows syntax.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The front-matter language, chosen by the delimiter on the first line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    fn delimiter(self) -> &'static str {
        match self {
            Format::Toml => "+++",
            Format::Yaml => "---",
        }
    }
}

/// An episode file cut in two. Line numbers are 1-based, in the whole file.
#[derive(Debug)]
pub struct Document<'a> {
    pub format: Format,
    pub front_matter: &'a str,
    /// The file line on which `front_matter` starts (the line after the
    /// opening delimiter).
    pub front_matter_line: u32,
    pub body: &'a str,
}

/// A front-matter value in either language. TOML datetimes arrive as their
/// RFC 3339 text, so dates are parsed in one place whatever the format.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    Table(BTreeMap<String, Value>),
}

impl Value {
    /// What a writer would call this kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "empty",
            Value::Bool(_) => "true/false",
            Value::Integer(_) => "a whole number",
            Value::Float(_) => "a decimal number",
            Value::String(_) => "text",
            Value::List(_) => "a list",
            Value::Table(_) => "a table",
        }
    }
}

pub type Fields = BTreeMap<String, Value>;

/// Why a file could not be split or its front matter parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Splits `text` at its front-matter delimiters.
pub fn split(text: &str) -> Result<Document<'_>, SyntaxError> {
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let format = match text[..first_end].trim_end() {
        "+++" => Format::Toml,
        "---" => Format::Yaml,
        _ => {
            return Err(SyntaxError {
                line: 1,
                column: Some(1),
                message: "an episode must start with front matter: a line `+++` (TOML) or `---` (YAML), then title and date, then the same line again".into(),
            });
        }
    };
    let mut offset = first_end;
    let mut line = 2;
    for raw in text[first_end..].split_inclusive('\n') {
        if raw.trim_end() == format.delimiter() {
            return Ok(Document {
                format,
                front_matter: &text[first_end..offset],
                front_matter_line: 2,
                body: &text[offset + raw.len()..],
            });
        }
        offset += raw.len();
        line += 1;
    }
    Err(SyntaxError {
        line: 1,
        column: Some(1),
        message: format!(
            "the front matter opened with `{0}` on line 1 is never closed: add a line `{0}` after the last key (the file has {1} lines)",
            format.delimiter(),
            line - 1
        ),
    })
}

/// Parses the front matter of `doc` into fields.
pub fn parse(doc: &Document<'_>) -> Result<Fields, SyntaxError> {
    let located = |line: u32, column: Option<u32>, message: String| SyntaxError {
        line: doc.front_matter_line + line.saturating_sub(1),
        column,
        message,
    };
    match doc.format {
        Format::Toml => match toml::from_str::<toml::Table>(doc.front_matter) {
            Ok(table) => Ok(table.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
            Err(e) => {
                let offset = e.span().map_or(0, |span| span.start);
                Err(located(
                    crate::diagnostic::line_of_offset(doc.front_matter, offset),
                    Some(crate::diagnostic::column_of_offset(doc.front_matter, offset)),
                    format!("TOML syntax error: {}", e.message()),
                ))
            }
        },
        Format::Yaml => match serde_saphyr::from_str::<Option<Fields>>(doc.front_matter) {
            Ok(fields) => Ok(fields.unwrap_or_default()),
            Err(e) => {
                let location = e.location();
                let line = location.map_or(1, |l| u32::try_from(l.line()).unwrap_or(u32::MAX));
                let column = location.and_then(|l| u32::try_from(l.column()).ok());
                let text = e.without_snippet().render();
                // The renderer appends its own position; ours counts from the file top.
                let message = match text.rfind(" at line ") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                };
                Err(located(line, column, format!("YAML syntax error: {message}")))
            }
        },
    }
}

fn from_toml(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::Integer(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::List(items.into_iter().map(from_toml).collect()),
        toml::Value::Table(t) => Value::Table(t.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
    }
}

/// The file line where top-level `key` is set, found by reading the
/// front-matter text (`key =`, `key:`, `"key" =` or a `[key]` table header).
/// Parsers report positions only for syntax errors; this gives semantic
/// errors (an impossible date, an unknown key) a line too.
pub fn key_line(doc: &Document<'_>, key: &str) -> Option<u32> {
    doc.front_matter
        .lines()
        .position(|line| sets_key(line, key))
        .map(|index| doc.front_matter_line + u32::try_from(index).unwrap_or(u32::MAX))
}

fn sets_key(line: &str, key: &str) -> bool {
    let trimmed = line.trim_start();
    let indented = trimmed.len() != line.len();
    if let Some(header) = trimmed.strip_prefix('[') {
        return header.trim_end().strip_suffix(']').map(str::trim) == Some(key);
    }
    if indented {
        return false;
    }
    let rest = ["\"", "'", ""]
        .iter()
        .find_map(|quote| trimmed.strip_prefix(quote)?.strip_prefix(key)?.strip_prefix(quote));
    rest.is_some_and(|rest| matches!(rest.trim_start().chars().next(), Some('=' | ':')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_toml_and_yaml() {
        let doc = split("+++\ntitle = \"a\"\n+++\nbody\n").unwrap();
        assert_eq!((doc.format, doc.front_matter, doc.body), (Format::Toml, "title = \"a\"\n", "body\n"));
        let doc = split("---\r\ntitle: a\r\n---\r\n").unwrap();
        assert_eq!((doc.format, doc.front_matter, doc.body), (Format::Yaml, "title: a\r\n", ""));
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        let err = split("+++\ntitle = \"a\"\nbody\n").unwrap_err();
        assert!(err.message.contains("never closed"), "{}", err.message);
        assert!(split("title = 1\n").is_err());
    }

    #[test]
    fn toml_errors_count_lines_from_the_file_top() {
        let text = "+++\ntitle = \"ok\"\ndate = \"unclosed\n+++\n";
        let err = parse(&split(text).unwrap()).unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn yaml_errors_count_lines_from_the_file_top() {
        let text = "---\ntitle: ok\ntags: [a, b\n---\n";
        let err = parse(&split(text).unwrap()).unwrap_err();
        assert!(err.line >= 3, "{err:?}");
        assert!(err.message.starts_with("YAML syntax error: "), "{}", err.message);
    }

    #[test]
    fn toml_datetimes_become_text_and_yaml_values_are_typed() {
        let fields = parse(&split("+++\ndate = 2024-07-01T10:00:00\n+++\n").unwrap()).unwrap();
        assert_eq!(fields["date"], Value::String("2024-07-01T10:00:00".into()));
        let fields =
            parse(&split("---\nnumber: 3\ndraft: true\nsummary:\ntags: [a]\n---\n").unwrap()).unwrap();
        assert_eq!(fields["number"], Value::Integer(3));
        assert_eq!(fields["draft"], Value::Bool(true));
        assert_eq!(fields["summary"], Value::Null);
        assert_eq!(fields["tags"], Value::List(vec![Value::String("a".into())]));
    }

    #[test]
    fn finds_the_line_of_a_key() {
        let doc = split("+++\ntitle = \"a\"\n\"date\" = 1\n[author]\nname = \"x\"\n+++\n").unwrap();
        assert_eq!(key_line(&doc, "title"), Some(2));
        assert_eq!(key_line(&doc, "date"), Some(3));
        assert_eq!(key_line(&doc, "author"), Some(4));
        assert_eq!(key_line(&doc, "name"), Some(5));
        assert_eq!(key_line(&doc, "dat"), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            for prefix in ["+++\n", "---\n", ""] {
                let text = format!("{prefix}{text}");
                if let Ok(doc) = split(&text) {
                    let _ = parse(&doc);
                }
            }
        }

        #[test]
        fn structured_front_matter_never_panics(
            body in "[a-z=:\\[\\]{}\"'#\\-+ 0-9TZ.\n]{0,200}",
            yaml in proptest::bool::ANY,
        ) {
            let delimiter = if yaml { "---" } else { "+++" };
            let text = format!("{delimiter}\n{body}\n{delimiter}\nbody");
            if let Ok(doc) = split(&text) {
                let _ = parse(&doc);
            }
        }
    }
}
