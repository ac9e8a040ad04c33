//! site.toml → [`Site`]: the settings every series inherits.

use super::Author;
use super::fields::{FieldReader, nearest};
use super::links::{LinkTargets, resolve};
use crate::content::front_matter::{self, Document, Format};
use crate::diagnostic::Diagnostic;
use jiff::tz::TimeZone;
use std::path::Path;
use url::Url;

#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub title: String,
    /// Absolute http(s), ending with `/`; every URL we publish starts with it.
    pub base_url: Url,
    pub description: String,
    pub language: String,
    pub timezone: TimeZone,
    pub feed_limit: usize,
    pub author: Option<Author>,
    /// Seconds caches and readers may keep a response (`Cache-Control: max-age`).
    pub cache_max_age: u32,
    /// A WebSub hub told of every changed feed, and named in each.
    pub websub_hub: Option<Url>,
    /// Addresses fetched (GET) when a feed changes, `{feed}` replaced by its
    /// URL, encoded: the Podcast Index's pubnotify and the like.
    pub pings: Vec<String>,
    /// The site's square icon (Atom `icon`, JSON Feed `favicon`, pages'
    /// `rel=icon`, `/favicon.ico`).
    pub icon: Option<Icon>,
    /// Reverse proxies whose `Forwarded`/`X-Forwarded-For` name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Count subscribers and reads (`audience = false` turns it off).
    pub audience: bool,
    /// Answer 429 to a client polling a feed far faster than max-age.
    pub poll_limit: bool,
}

/// A square picture in the content folder that stands for the site in
/// readers' lists and browser tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icon {
    /// Absolute, under base_url.
    pub url: String,
    /// Its path in the content folder (`icon.png`), published as it is.
    pub asset: String,
    /// The line of site.toml that names it, for problems found in the file.
    pub line: Option<u32>,
}

const KEYS: &[&str] = &[
    "title",
    "base_url",
    "description",
    "language",
    "timezone",
    "feed_limit",
    "author",
    "cache_max_age",
    "websub_hub",
    "pings",
    "icon",
    "trusted_proxies",
    "audience",
    "poll_limit",
];

/// Five minutes: aggregators poll about that often anyway.
pub const DEFAULT_CACHE_MAX_AGE: u32 = 300;

/// Reads site.toml. Always returns a `Site` (with stand-ins where values are
/// wrong) so that the episodes can still be checked in the same run; the
/// diagnostics say whether it may be published. `base_url`, when given
/// (`--base-url`, a local preview), stands in for the file's.
pub fn parse(
    path: &Path,
    text: &str,
    targets: &LinkTargets,
    base_url: Option<&Url>,
) -> (Site, Vec<Diagnostic>) {
    let base_url_instead = base_url;
    let doc = config_document(text);
    let fields = match front_matter::parse(&doc) {
        Ok(fields) => fields,
        Err(e) => {
            let error = Diagnostic::error(path, e.message).at(Some(e.line), e.column);
            return (fallback(), vec![error]);
        }
    };
    let mut reader = FieldReader::new(path, &doc, fields);
    reader.reject_unknown(KEYS);
    let title = reader.required_text("title", "title = \"My serials\"");
    let base_url = read_base_url(&mut reader);
    let description = reader.text("description").unwrap_or_default();
    let language = read_language(&mut reader, "language").unwrap_or_else(|| "en".to_owned());
    let timezone = read_timezone(&mut reader, "timezone").unwrap_or(TimeZone::UTC);
    let feed_limit = match reader.unsigned("feed_limit") {
        Some(0) => {
            reader.error("feed_limit", "`feed_limit` must be at least 1");
            50
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => 50,
    };
    let author = reader.author("author");
    let cache_max_age = reader
        .unsigned("cache_max_age")
        .map_or(DEFAULT_CACHE_MAX_AGE, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let websub_hub = reader.text("websub_hub").and_then(|text| match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Some(url),
        _ => {
            reader.error(
                "websub_hub",
                format!("`websub_hub` must be a full http(s) address such as https://pubsubhubbub.appspot.com/, not `{text}`"),
            );
            None
        }
    });
    let mut pings = reader.text_list("pings");
    pings.retain(|ping| {
        let usable = ping.contains("{feed}")
            && Url::parse(&ping.replace("{feed}", "x")).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !usable {
            reader.error(
                "pings",
                format!("`pings`: `{ping}` must be a full http(s) address with {{feed}} where the feed's address goes, such as https://api.podcastindex.org/api/1.0/hub/pubnotify?url={{feed}}"),
            );
        }
        usable
    });
    let trusted_proxies = reader
        .text_list("trusted_proxies")
        .iter()
        .filter_map(|text| {
            let net = text.trim().parse::<ipnet::IpNet>().ok();
            let net = net.or_else(|| text.trim().parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from));
            if net.is_none() {
                reader.error(
                    "trusted_proxies",
                    format!("`trusted_proxies`: `{text}` is not an address or a range like 127.0.0.1/32 or 10.0.0.0/8"),
                );
            }
            net
        })
        .collect();
    let audience = reader.bool("audience").unwrap_or(true);
    let poll_limit = reader.bool("poll_limit").unwrap_or(false);
    let base_url = base_url_instead.cloned().or(base_url).unwrap_or_else(|| fallback().base_url);
    let icon = read_icon(&mut reader, &base_url, targets);
    let site = Site {
        title: title.unwrap_or_default(),
        base_url,
        description,
        language,
        timezone,
        feed_limit,
        author,
        cache_max_age,
        websub_hub,
        pings,
        icon,
        trusted_proxies,
        audience,
        poll_limit,
    };
    (site, reader.problems)
}

/// Config files are whole-file TOML documents; reading them as front matter
/// that starts on line 1 reuses the located field reader.
pub(crate) fn config_document(text: &str) -> Document<'_> {
    Document { format: Format::Toml, front_matter: text, front_matter_line: 1, body: "" }
}

/// Stand-in settings that let the rest of the content be checked when
/// site.toml cannot be read; never published (the build has errors then).
pub fn fallback() -> Site {
    Site {
        title: String::new(),
        base_url: Url::parse("https://example.invalid/").expect("constant URL parses"),
        description: String::new(),
        language: "en".to_owned(),
        timezone: TimeZone::UTC,
        feed_limit: 50,
        author: None,
        cache_max_age: DEFAULT_CACHE_MAX_AGE,
        websub_hub: None,
        pings: Vec::new(),
        trusted_proxies: Vec::new(),
        audience: true,
        poll_limit: false,
        icon: None,
    }
}

/// `icon`: a file in the content folder, since it is also published as
/// `/favicon.ico`. A missing one is left out with a warning, like a cover.
fn read_icon(reader: &mut FieldReader<'_>, base_url: &Url, targets: &LinkTargets) -> Option<Icon> {
    let text = reader.text("icon").filter(|s| !s.trim().is_empty())?;
    let resolved = resolve(&text, base_url, base_url, base_url, targets);
    let line = reader.line("icon");
    match resolved.asset {
        Some(asset) => Some(Icon { url: resolved.url, asset, line }),
        None => {
            reader.warn(
                "icon",
                format!(
                    "icon `{text}` is not a file in the content folder (write a path such as \"icon.png\", relative to site.toml); the site has no icon"
                ),
            );
            None
        }
    }
}

fn read_base_url(reader: &mut FieldReader<'_>) -> Option<Url> {
    const EXAMPLE: &str = "base_url = \"https://example.com/\"";
    let text = reader.required_text("base_url", EXAMPLE)?;
    match parse_base_url(&text) {
        Ok((url, fixed)) => {
            if fixed {
                reader.warn("base_url", format!("`base_url` should end with `/`; using `{url}`"));
            }
            Some(url)
        }
        Err(message) => {
            reader.error("base_url", format!("`base_url` {message}"));
            None
        }
    }
}

/// A site's address: a full http(s) URL without query or fragment, ending
/// in `/` (added when missing: the `bool` says so), or what is wrong with it.
pub fn parse_base_url(text: &str) -> Result<(Url, bool), String> {
    let mut url = match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => url,
        _ => {
            return Err(format!("must be a full http(s) address such as https://example.com/, not `{text}`"));
        }
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err("cannot have a `?query` or `#fragment`".to_owned());
    }
    let fixed = !url.path().ends_with('/');
    if fixed {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok((url, fixed))
}

/// A BCP 47 tag, checked for shape (`ko`, `en-US`, `zh-Hant-TW`).
pub(crate) fn read_language(reader: &mut FieldReader<'_>, key: &str) -> Option<String> {
    let text = reader.text(key)?;
    let mut parts = text.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Some(text)
    } else {
        reader.error(key, format!("`{key}` should be a language tag like \"ko\" or \"en-US\", not `{text}`"));
        None
    }
}

/// An IANA zone name, with the nearest real one suggested on a typo.
pub(crate) fn read_timezone(reader: &mut FieldReader<'_>, key: &str) -> Option<TimeZone> {
    let name = reader.text(key)?;
    match TimeZone::get(name.trim()) {
        Ok(tz) => Some(tz),
        Err(_) => {
            let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let hint = match nearest(&name, &names) {
                Some(near) => format!("did you mean \"{near}\"?"),
                None => "use an IANA name like \"Asia/Seoul\" or \"America/New_York\"".to_owned(),
            };
            reader.error(key, format!("unknown time zone `{name}`: {hint}"));
            None
        }
    }
}
