//! Request path → what to serve. Hostile paths (`..` in any spelling,
//! encoded slashes or backslashes, NUL, `//`, broken or non-UTF-8 escapes)
//! are refused before any lookup, so they can never be redirected or reach
//! anything but the snapshot.

use crate::snapshot::Snapshot;
use percent_encoding::percent_decode;

/// Where a request path leads.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// A resource, by its snapshot key.
    Resource(String),
    /// A folder asked for without its slash: `301` to this location.
    Redirect(String),
    /// `/_episodic/…`, by the part after `_episodic/`.
    Admin(String),
    NotFound,
    BadRequest,
}

/// The folder of the author's own endpoints, outside the published site.
pub const ADMIN_PREFIX: &str = "_episodic/";

pub fn route(raw_path: &str, snapshot: &Snapshot) -> Route {
    let Some(path) = decode(raw_path) else { return Route::BadRequest };
    if let Some(admin) = path.strip_prefix('/').and_then(|p| p.strip_prefix(ADMIN_PREFIX)) {
        return Route::Admin(admin.to_owned());
    }
    let Some(key) = path.strip_prefix(snapshot.base_path.as_str()) else {
        // `/blog` when the site lives at `/blog/`.
        return if format!("{path}/") == snapshot.base_path {
            Route::Redirect(format!("{raw_path}/"))
        } else {
            Route::NotFound
        };
    };
    if key.is_empty() || key.ends_with('/') {
        let index = format!("{key}index.html");
        return if snapshot.get(&index).is_some() { Route::Resource(index) } else { Route::NotFound };
    }
    if snapshot.get(key).is_some() {
        Route::Resource(key.to_owned())
    } else if snapshot.is_folder(key) {
        Route::Redirect(format!("{raw_path}/"))
    } else {
        Route::NotFound
    }
}

/// The decoded path, or `None` if it is malformed or hostile.
fn decode(raw: &str) -> Option<String> {
    if !raw.starts_with('/') || raw.contains('\\') || raw.contains("//") {
        return None;
    }
    let bytes = raw.as_bytes();
    for (i, _) in raw.match_indices('%') {
        let hex = bytes.get(i + 1..i + 3)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        // An encoded `/`, `\` or NUL would smuggle a separator or terminator
        // past the checks above.
        if matches!(hex.to_ascii_lowercase().as_slice(), b"2f" | b"5c" | b"00") {
            return None;
        }
    }
    // Overlong and other invalid UTF-8 sequences fail here.
    let decoded = percent_decode(bytes).decode_utf8().ok()?;
    let hostile_segment = decoded.split('/').any(|segment| segment == "." || segment == "..");
    if hostile_segment || decoded.contains("//") || decoded.chars().any(char::is_control) {
        return None;
    }
    Some(decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn hostile_paths_are_refused() {
        for path in [
            "/../etc/passwd",
            "/night-shift/../../x",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/.%2e/x",
            "/night-shift%2frss.xml",
            "/night-shift%2Frss.xml",
            "//etc/passwd",
            "/a\\b",
            "/a%5cb",
            "/a%00b",
            "/%c0%ae%c0%ae/x",
            "/%e0%80%ae",
            "/%ff",
            "/%zz",
            "/%4",
            "/./rss.xml",
            "rss.xml",
        ] {
            assert_eq!(decode(path), None, "{path}");
        }
    }

    #[test]
    fn ordinary_paths_decode() {
        assert_eq!(decode("/night-shift/rss.xml").as_deref(), Some("/night-shift/rss.xml"));
        assert_eq!(decode("/%EB%B0%A4/a%20b.png").as_deref(), Some("/밤/a b.png"));
        assert_eq!(decode("/").as_deref(), Some("/"));
        assert_eq!(decode("/a..b/c").as_deref(), Some("/a..b/c"));
    }
}
