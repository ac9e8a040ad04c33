//! Typed, located reads of front-matter and config fields. Every problem is
//! recorded (not returned), so one pass over a file reports all of them.

use super::Author;
use super::date::{self, Instant};
use crate::content::front_matter::{Document, Fields, Value, key_line};
use crate::content::text::is_xml_char;
use crate::diagnostic::Diagnostic;
use jiff::tz::TimeZone;
use std::path::Path;

/// Reads fields of one file, collecting located problems as it goes.
pub struct FieldReader<'a> {
    pub path: &'a Path,
    pub doc: &'a Document<'a>,
    pub fields: Fields,
    pub problems: Vec<Diagnostic>,
}

impl<'a> FieldReader<'a> {
    /// Starts reading `fields`, first dropping characters XML forbids that
    /// arrived through escapes (`"\u000B"` in TOML, `"\x1b"` in YAML).
    pub fn new(path: &'a Path, doc: &'a Document<'a>, mut fields: Fields) -> Self {
        let mut problems = Vec::new();
        for (key, value) in &mut fields {
            let removed = scrub(value);
            if removed > 0 {
                problems.push(
                    Diagnostic::warning(path, format!("`{key}`: removed {removed} invisible control character(s) that feeds cannot carry"))
                        .at(key_line(doc, key), None),
                );
            }
        }
        FieldReader { path, doc, fields, problems }
    }

    /// The file line where `key` is set, if it can be found.
    pub fn line(&self, key: &str) -> Option<u32> {
        key_line(self.doc, key)
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let line = self.line(key);
        self.problems.push(Diagnostic::error(self.path, message).at(line, None));
    }

    pub fn warn(&mut self, key: &str, message: impl Into<String>) {
        let line = self.line(key);
        self.problems.push(Diagnostic::warning(self.path, message).at(line, None));
    }

    /// Reports every key not in `allowed`, suggesting the nearest allowed one.
    pub fn reject_unknown(&mut self, allowed: &[&str]) {
        let unknown: Vec<String> =
            self.fields.keys().filter(|k| !allowed.contains(&k.as_str())).cloned().collect();
        for key in unknown {
            let hint = match nearest(&key, allowed) {
                Some(near) => format!("; did you mean `{near}`?"),
                None => format!("; the keys are: {}", allowed.join(", ")),
            };
            self.error(&key, format!("unknown key `{key}`{hint}"));
        }
    }

    /// Whether `key` is set to anything but an empty value.
    pub fn has(&self, key: &str) -> bool {
        !matches!(self.fields.get(key), None | Some(Value::Null))
    }

    /// Records a file-level error for something that is not there at all.
    pub fn missing(&mut self, message: impl Into<String>) {
        self.problems.push(Diagnostic::error(self.path, message));
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        match self.fields.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// Text; numbers are accepted as their digits (`title: 1984`).
    pub fn text(&mut self, key: &str) -> Option<String> {
        match self.take(key)? {
            Value::String(s) => Some(s),
            Value::Integer(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            other => {
                self.error(key, format!("`{key}` should be text, not {}", other.kind()));
                None
            }
        }
    }

    /// Text that must be there and not blank.
    pub fn required_text(&mut self, key: &str, example: &str) -> Option<String> {
        match self.text(key) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.error(key, format!("`{key}` is empty; write it like {example}"));
                None
            }
            None => {
                self.missing(format!("`{key}` is missing; add a line like {example}"));
                None
            }
        }
    }

    pub fn bool(&mut self, key: &str) -> Option<bool> {
        match self.take(key)? {
            Value::Bool(b) => Some(b),
            other => {
                self.error(key, format!("`{key}` should be true or false, not {}", other.kind()));
                None
            }
        }
    }

    pub fn unsigned(&mut self, key: &str) -> Option<u64> {
        match self.take(key)? {
            Value::Integer(i) if i >= 0 => u64::try_from(i).ok(),
            other => {
                let shown = match &other {
                    Value::Integer(i) => i.to_string(),
                    other => other.kind().to_owned(),
                };
                self.error(key, format!("`{key}` should be a whole number of 0 or more, not {shown}"));
                None
            }
        }
    }

    /// A list of texts; a single text is a list of one.
    pub fn text_list(&mut self, key: &str) -> Vec<String> {
        let items = match self.take(key) {
            None => return Vec::new(),
            Some(Value::List(items)) => items,
            Some(Value::String(s)) => vec![Value::String(s)],
            Some(other) => {
                self.error(
                    key,
                    format!("`{key}` should be a list like [\"a\", \"b\"], not {}", other.kind()),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                Value::String(_) => self.error(key, format!("`{key}` has an empty entry; remove it")),
                Value::Integer(i) => out.push(i.to_string()),
                other => {
                    self.error(key, format!("each entry of `{key}` should be text, not {}", other.kind()))
                }
            }
        }
        out
    }

    pub fn date(&mut self, key: &str, tz: &TimeZone) -> Option<Instant> {
        let text = self.text(key)?;
        match date::parse(&text, tz) {
            Ok(parsed) => {
                if let Some(note) = parsed.note {
                    self.warn(key, format!("`{key}`: {note}"));
                }
                Some(parsed.instant)
            }
            Err(problem) => {
                self.error(key, format!("`{key}`: {problem}"));
                None
            }
        }
    }

    /// An author: a name as text, or a table with name, email and url.
    pub fn author(&mut self, key: &str) -> Option<Author> {
        let table = match self.take(key)? {
            Value::String(name) if !name.trim().is_empty() => {
                return Some(Author { name: name.trim().to_owned(), email: None, url: None });
            }
            Value::Table(table) => table,
            Value::String(_) => {
                self.error(key, format!("`{key}` is empty; write a name, or remove it"));
                return None;
            }
            other => {
                self.error(
                    key,
                    format!(
                        "`{key}` should be a name or a table with name, email and url, not {}",
                        other.kind()
                    ),
                );
                return None;
            }
        };
        let mut text = |field: &str| match table.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(other) => {
                self.error(key, format!("`{key}.{field}` should be text, not {}", other.kind()));
                None
            }
        };
        let (name, email, url) = (text("name"), text("email"), text("url"));
        for field in table.keys().filter(|k| !["name", "email", "url"].contains(&k.as_str())) {
            let hint = nearest(field, &["name", "email", "url"])
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            self.error(key, format!("unknown key `{key}.{field}`{hint}"));
        }
        match name {
            Some(name) => Some(Author { name, email, url }),
            None => {
                self.error(key, format!("`{key}` needs a `name`"));
                None
            }
        }
    }
}

/// Drops characters XML forbids from every text in `value`; returns how many.
fn scrub(value: &mut Value) -> usize {
    match value {
        Value::String(s) if !s.chars().all(is_xml_char) => {
            let before = s.chars().count();
            s.retain(is_xml_char);
            before - s.chars().count()
        }
        Value::List(items) => items.iter_mut().map(scrub).sum(),
        Value::Table(table) => table.values_mut().map(scrub).sum(),
        _ => 0,
    }
}

/// The allowed key closest to a misspelt one, if it is close enough to be
/// what the writer meant (`dtae` → `date`, `titel` → `title`).
pub fn nearest<'k>(key: &str, allowed: &[&'k str]) -> Option<&'k str> {
    allowed
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(key, candidate), *candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2.max(candidate.len() / 3) && *distance < candidate.len()
        })
        .min()
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn suggests_the_nearest_key() {
        let keys =
            ["title", "date", "number", "updated", "summary", "tags", "draft", "author", "image", "id"];
        assert_eq!(nearest("dtae", &keys), Some("date"));
        assert_eq!(nearest("titel", &keys), Some("title"));
        assert_eq!(nearest("tag", &keys), Some("tags"));
        assert_eq!(nearest("published", &keys), None);
    }
}
