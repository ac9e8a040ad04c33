//! Resolves a URL written in an episode (or series.toml) to the absolute URL
//! a feed carries, as if the Markdown file were served from the series'
//! folder URL: `images/a.png` → `{base_url}{series}/images/a.png`,
//! `02-domain.md` → that episode's permalink, `#note` → `{permalink}#note`.

use percent_encoding::percent_decode_str;
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// What the resolver may point at: the site's publishable files and every
/// episode file's permalink, both keyed by their path in the content folder
/// (`night-shift/images/a.png`, `night-shift/02-domain.md`).
#[derive(Debug, Default)]
pub struct LinkTargets {
    pub assets: BTreeSet<String>,
    pub episodes: BTreeMap<String, Url>,
}

/// The outcome of resolving one reference.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    pub url: String,
    /// The content-relative path of a local file that must be published.
    pub asset: Option<String>,
    /// A relative reference to a file that does not exist: still resolved,
    /// but worth a warning.
    pub missing: bool,
    /// The content path the reference was looked up as, found or not: the
    /// result changes when that file appears, goes or is renumbered, so an
    /// incremental rebuild must resolve it again then.
    pub looked_up: Option<String>,
}

impl Resolved {
    fn plain(url: String) -> Self {
        Resolved { url, asset: None, missing: false, looked_up: None }
    }
}

/// Resolves `reference` against `folder` (`{base_url}{series}/`); `permalink`
/// takes fragment-only references.
pub fn resolve(
    reference: &str,
    folder: &Url,
    permalink: &Url,
    site_base: &Url,
    targets: &LinkTargets,
) -> Resolved {
    let reference = reference.trim();
    if reference.is_empty() {
        return Resolved::plain(permalink.to_string());
    }
    if let Some(fragment) = reference.strip_prefix('#') {
        let mut url = permalink.clone();
        url.set_fragment(Some(fragment));
        return Resolved::plain(url.to_string());
    }
    let is_relative = matches!(Url::parse(reference), Err(url::ParseError::RelativeUrlWithoutBase));
    if !is_relative {
        // An absolute link into this site may name one of our files: publish it.
        let looked_up = Url::parse(reference).ok().and_then(|url| local_path(&url, site_base));
        let asset = looked_up.clone().filter(|local| targets.assets.contains(local));
        return Resolved { url: reference.to_owned(), asset, missing: false, looked_up };
    }
    let Ok(mut url) = folder.join(reference) else {
        return Resolved { url: reference.to_owned(), asset: None, missing: true, looked_up: None };
    };
    let Some(local) = local_path(&url, site_base) else {
        return Resolved::plain(url.to_string());
    };
    if let Some(target) = targets.episodes.get(&local) {
        let fragment = url.fragment().map(str::to_owned);
        url = target.clone();
        url.set_fragment(fragment.as_deref());
        return Resolved { looked_up: Some(local), ..Resolved::plain(url.to_string()) };
    }
    if targets.assets.contains(&local) {
        return Resolved {
            url: url.to_string(),
            asset: Some(local.clone()),
            missing: false,
            looked_up: Some(local),
        };
    }
    Resolved { url: url.to_string(), asset: None, missing: true, looked_up: Some(local) }
}

/// The content-relative path `url` names, when it lies under the site.
/// Segments are decoded one by one: an encoded `/` (`%2F`) inside a segment
/// names no file, since a server would not map it to a folder either.
fn local_path(url: &Url, site_base: &Url) -> Option<String> {
    if url.origin() != site_base.origin() {
        return None;
    }
    let relative = url.path().strip_prefix(site_base.path())?;
    let mut segments = Vec::new();
    for segment in relative.split('/') {
        let decoded = percent_decode_str(segment).decode_utf8().ok()?;
        if decoded.contains(['/', '\\']) {
            return None;
        }
        segments.push(decoded);
    }
    Some(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> LinkTargets {
        let mut t = LinkTargets::default();
        t.assets.insert("s/images/a.png".into());
        t.assets.insert("s/그림.png".into());
        t.episodes.insert("s/02-domain.md".into(), Url::parse("https://x.test/blog/s/2/").unwrap());
        t
    }

    fn check(reference: &str) -> Resolved {
        let base = Url::parse("https://x.test/blog/").unwrap();
        let folder = Url::parse("https://x.test/blog/s/").unwrap();
        let permalink = Url::parse("https://x.test/blog/s/1/").unwrap();
        resolve(reference, &folder, &permalink, &base, &targets())
    }

    #[test]
    fn resolves_assets_episodes_and_fragments() {
        assert_eq!(
            check("images/a.png"),
            Resolved {
                url: "https://x.test/blog/s/images/a.png".into(),
                asset: Some("s/images/a.png".into()),
                missing: false,
                looked_up: Some("s/images/a.png".into()),
            }
        );
        assert_eq!(check("./그림.png").asset.as_deref(), Some("s/그림.png"));
        assert_eq!(check("02-domain.md#end").url, "https://x.test/blog/s/2/#end");
        assert_eq!(check("#note").url, "https://x.test/blog/s/1/#note");
        assert_eq!(check("https://other.test/a").url, "https://other.test/a");
        assert_eq!(check("mailto:a@b.test").url, "mailto:a@b.test");
        assert_eq!(check("/top").url, "https://x.test/top");
        let absolute = check("https://x.test/blog/s/images/a.png");
        assert_eq!(absolute.asset.as_deref(), Some("s/images/a.png"));
        assert!(!absolute.missing);
    }

    #[test]
    fn missing_files_resolve_and_are_flagged() {
        let r = check("images/nope.png");
        assert_eq!(r.url, "https://x.test/blog/s/images/nope.png");
        assert!(r.missing && r.asset.is_none());
        assert_eq!(r.looked_up.as_deref(), Some("s/images/nope.png"));
        assert_eq!(check("02-domain.md").looked_up.as_deref(), Some("s/02-domain.md"));
        assert_eq!(check("https://other.test/a").looked_up, None);
        assert!(check("../../../etc/passwd").asset.is_none());
        let encoded_slash = check("images%2Fa.png");
        assert!(encoded_slash.asset.is_none());
    }
}
