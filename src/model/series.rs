//! series.toml → [`Series`]: one serial's settings, defaulting to the site's.

use super::fields::FieldReader;
use super::links::{LinkTargets, resolve};
use super::podcast::{self, Podcast};
use super::site::{Site, config_document, read_language, read_timezone};
use super::{Author, Cover};
use crate::content::front_matter::{self, Value};
use crate::diagnostic::Diagnostic;
use jiff::tz::TimeZone;
use std::path::Path;
use url::Url;

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The folder name, which is also the URL segment.
    pub slug: String,
    pub title: String,
    pub description: String,
    pub language: String,
    pub timezone: TimeZone,
    pub author: Option<Author>,
    pub tags: Vec<String>,
    /// The cover image, resolved like a link in an episode.
    pub image: Option<Cover>,
    pub title_format: TitleFormat,
    /// When new episodes come out, in the writer's words ("Every Monday at
    /// 10:00"), shown on the series page.
    pub schedule: Option<String>,
    /// `{base_url}{slug}/`: the series page and the base for relative URLs.
    pub home: Url,
    /// Set by a `[podcast]` table: the series is a podcast.
    pub podcast: Option<Podcast>,
}

const KEYS: &[&str] = &[
    "title",
    "description",
    "language",
    "timezone",
    "author",
    "tags",
    "image",
    "title_format",
    "schedule",
    "podcast",
];

/// Reads series.toml for the folder `slug`. Always returns a `Series` (the
/// site's settings stand in for what cannot be read) so its episodes are
/// still checked in the same run; the diagnostics say if it is publishable.
/// `published_guid` is the podcast GUID an earlier build published.
pub fn parse(
    path: &Path,
    slug: &str,
    text: &str,
    site: &Site,
    targets: &LinkTargets,
    published_guid: Option<&str>,
) -> (Series, Vec<Diagnostic>) {
    let doc = config_document(text);
    let fields = match front_matter::parse(&doc) {
        Ok(fields) => fields,
        Err(e) => {
            return (
                fallback(slug, site),
                vec![Diagnostic::error(path, e.message).at(Some(e.line), e.column)],
            );
        }
    };
    let mut reader = FieldReader::new(path, &doc, fields);
    reader.reject_unknown(KEYS);
    let title = reader.required_text("title", "title = \"My serial\"");
    let title_format = match reader.text("title_format") {
        None => TitleFormat::default(),
        Some(text) => TitleFormat::parse(&text).unwrap_or_else(|message| {
            reader.error("title_format", message);
            TitleFormat::default()
        }),
    };
    let home = series_home(&site.base_url, slug);
    let image = cover(&mut reader, &home, site, targets);
    let podcast = match reader.fields.remove("podcast") {
        None | Some(Value::Null) => None,
        Some(Value::Table(table)) => {
            let mut table = FieldReader::new(path, &doc, table);
            let artwork = cover(&mut table, &home, site, targets);
            let feed_url = home.join("rss.xml").map_or_else(|_| format!("{home}rss.xml"), String::from);
            let podcast = podcast::read(&mut table, artwork, &feed_url, published_guid);
            reader.problems.extend(table.problems);
            podcast
        }
        Some(other) => {
            let kind = other.kind();
            reader.error("podcast", format!("`podcast` should be a table (a [podcast] section), not {kind}"));
            None
        }
    };
    let series = Series {
        slug: slug.to_owned(),
        title: title.unwrap_or_else(|| slug.to_owned()),
        description: reader.text("description").unwrap_or_else(|| site.description.clone()),
        language: read_language(&mut reader, "language").unwrap_or_else(|| site.language.clone()),
        timezone: read_timezone(&mut reader, "timezone").unwrap_or_else(|| site.timezone.clone()),
        author: reader.author("author").or_else(|| site.author.clone()),
        tags: reader.text_list("tags"),
        image,
        title_format,
        schedule: reader.text("schedule").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        home,
        podcast,
    };
    (series, reader.problems)
}

/// The picture `image` names, resolved like a link in an episode.
fn cover(reader: &mut FieldReader<'_>, home: &Url, site: &Site, targets: &LinkTargets) -> Option<Cover> {
    let image = reader.text("image").filter(|s| !s.trim().is_empty())?;
    let resolved = resolve(&image, home, home, &site.base_url, targets);
    if resolved.missing {
        reader.warn(
            "image",
            format!("image `{image}` is not a file in the content folder; it is linked as {}", resolved.url),
        );
    }
    Some(Cover { url: resolved.url, asset: resolved.asset })
}

/// The series as the site's settings alone describe it.
pub fn fallback(slug: &str, site: &Site) -> Series {
    Series {
        slug: slug.to_owned(),
        title: slug.to_owned(),
        description: site.description.clone(),
        language: site.language.clone(),
        timezone: site.timezone.clone(),
        author: site.author.clone(),
        tags: Vec::new(),
        image: None,
        title_format: TitleFormat::default(),
        schedule: None,
        home: series_home(&site.base_url, slug),
        podcast: None,
    }
}

/// `{base_url}{slug}/`, with the slug percent-encoded as one path segment.
pub fn series_home(base: &Url, slug: &str) -> Url {
    let mut home = base.clone();
    if let Ok(mut segments) = home.path_segments_mut() {
        segments.pop_if_empty().push(slug).push("");
    }
    home
}

/// How an episode's title is shown: `{number}` and `{title}` are replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleFormat(Vec<Piece>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Number,
    Title,
}

impl Default for TitleFormat {
    fn default() -> Self {
        TitleFormat(vec![Piece::Title])
    }
}

impl TitleFormat {
    pub fn parse(format: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = format;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_owned()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!("`title_format` has a `{{` that is never closed: `{format}`"));
            };
            pieces.push(match &rest[open + 1..open + close] {
                "number" => Piece::Number,
                "title" => Piece::Title,
                other => {
                    return Err(format!("`title_format` can use {{number}} and {{title}}, not {{{other}}}"));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(TitleFormat(pieces))
    }

    pub fn apply(&self, number: u64, title: &str) -> String {
        let mut out = String::with_capacity(title.len() + 16);
        for piece in &self.0 {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Number => out.push_str(&number.to_string()),
                Piece::Title => out.push_str(title),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_format_renders_korean_episode_titles() {
        let format = TitleFormat::parse("{number}화. {title}").unwrap();
        assert_eq!(format.apply(10, "어디서부터 잘못된걸까"), "10화. 어디서부터 잘못된걸까");
        assert_eq!(TitleFormat::default().apply(3, "t"), "t");
        assert!(TitleFormat::parse("{episode} {title}").is_err());
        assert!(TitleFormat::parse("{title").is_err());
    }

    #[test]
    fn series_home_encodes_the_slug() {
        let base = Url::parse("https://example.com/blog/").unwrap();
        assert_eq!(series_home(&base, "night-shift").as_str(), "https://example.com/blog/night-shift/");
        assert_eq!(
            series_home(&base, "밤 근무").as_str(),
            "https://example.com/blog/%EB%B0%A4%20%EA%B7%BC%EB%AC%B4/"
        );
    }
}
