//! An episode file → [`EpisodeMeta`] (validated front matter) → [`Episode`]
//! (with its body rendered and every URL made absolute).
//!
//! The two steps are apart because rendering needs every episode's
//! permalink (links between episodes), while validation needs only the file.

use super::date::Instant;
use super::fields::FieldReader;
use super::links::{self, LinkTargets, resolve};
use super::media::{self, Measured, Media, PodcastMeta, Transcript};
use super::{Author, PackedText, Series};
use crate::content::front_matter;
use crate::content::markdown::{self, truncate_on_word};
use crate::diagnostic::{Diagnostic, line_of_offset};
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use url::Url;

const KEYS: &[&str] =
    &["title", "date", "number", "updated", "summary", "tags", "draft", "author", "image", "id"];

/// How long a summary taken from the body may be, in characters.
pub const SUMMARY_LIMIT: usize = 300;

/// An episode's validated front matter.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeMeta {
    pub path: PathBuf,
    /// `series/file.md`: the file's path in the content folder.
    pub source: String,
    pub number: u64,
    /// The title as written (before `title_format`).
    pub title: String,
    pub published: Instant,
    /// The line of `date`, for what is said about it later.
    pub date_line: Option<u32>,
    pub updated: Instant,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub draft: bool,
    pub author: Option<Author>,
    pub image: Option<String>,
    pub id: Option<String>,
    pub podcast: PodcastMeta,
}

/// Front matter plus the Markdown body it came with.
#[derive(Clone, Debug)]
pub struct ParsedEpisode {
    pub meta: EpisodeMeta,
    pub body: String,
    /// The file line on which `body` starts.
    pub body_line: u32,
}

/// A ready-to-publish episode.
#[derive(Clone, Debug)]
pub struct Episode {
    pub meta: EpisodeMeta,
    /// The title through the series' `title_format`.
    pub title: String,
    /// `{base_url}{series}/{number}/`.
    pub permalink: Url,
    /// The permalink unless front matter sets `id`; never derived from the
    /// title, date, body or file name, so editing those keeps it.
    pub id: String,
    pub summary: String,
    /// The body as HTML, compressed (see `packed`).
    pub content_html: PackedText,
    pub image: Option<String>,
    /// Its audio or video, resolved and measured.
    pub media: Option<Media>,
    pub transcript: Option<Transcript>,
    /// Content-relative paths of the local files this episode references.
    pub assets: Vec<String>,
    /// Every content path its links were looked up as (found or not): when
    /// one of them appears, goes or is renumbered, it is assembled again.
    pub links: Vec<String>,
}

impl Episode {
    pub fn id_is_permalink(&self) -> bool {
        self.meta.id.is_none()
    }

    /// Whether readers may see it at `now`: not a draft and its time has come.
    pub fn is_published(&self, now: Timestamp) -> bool {
        !self.meta.draft && self.meta.published.timestamp <= now
    }
}

/// Validates an episode file's text. `None` when it cannot be used.
pub fn parse(
    path: &Path,
    source: &str,
    text: &str,
    series: &Series,
) -> (Option<ParsedEpisode>, Vec<Diagnostic>) {
    let doc = match front_matter::split(text) {
        Ok(doc) => doc,
        Err(e) => return (None, vec![Diagnostic::error(path, e.message).at(Some(e.line), e.column)]),
    };
    let fields = match front_matter::parse(&doc) {
        Ok(fields) => fields,
        Err(e) => return (None, vec![Diagnostic::error(path, e.message).at(Some(e.line), e.column)]),
    };
    let mut reader = FieldReader::new(path, &doc, fields);
    let keys: Vec<&str> = KEYS.iter().chain(&media::KEYS).copied().collect();
    reader.reject_unknown(&keys);
    let title = reader.required_text("title", "title = \"Where it went wrong\"");
    let has_date = reader.has("date");
    let published = reader.date("date", &series.timezone);
    if !has_date {
        reader.missing("`date` is missing; add the publish time, like date = 2026-11-30T10:00:00");
    }
    let updated = reader.date("updated", &series.timezone);
    let has_number = reader.has("number");
    let mut number = reader.unsigned("number");
    if !has_number {
        number = number_from_file_name(source);
        if number.is_none() {
            reader.missing("no episode number: add `number = 3` to the front matter, or start the file name with it (03-title.md)");
        }
    }
    let summary = reader.text("summary").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let tags = reader.text_list("tags");
    let draft = reader.bool("draft").unwrap_or(false);
    let author = reader.author("author");
    let image = reader.text("image").filter(|s| !s.trim().is_empty());
    let id = reader.text("id").map(|s| s.trim().to_owned());
    let podcast = media::read(&mut reader);
    match id.as_deref() {
        Some("") => reader.error("id", "`id` is empty; remove it to use the permalink"),
        Some(id) if Url::parse(id).is_err() => reader.warn(
            "id",
            format!("`id` `{id}` is not a URI; Atom needs one, like tag:example.com,2026:{id} or urn:uuid:…"),
        ),
        _ => {}
    }
    let body_offset = text.len() - doc.body.len();
    let body_line = line_of_offset(text, body_offset);
    let (Some(title), Some(published), Some(number), false) =
        (title, published, number, reader.problems.iter().any(Diagnostic::is_error))
    else {
        return (None, reader.problems);
    };
    let meta = EpisodeMeta {
        path: path.to_path_buf(),
        source: source.to_owned(),
        number,
        title: title.trim().to_owned(),
        published,
        date_line: reader.line("date"),
        updated: updated.unwrap_or(published),
        summary,
        tags,
        draft,
        author,
        image,
        id: id.filter(|s| !s.is_empty()),
        podcast,
    };
    (Some(ParsedEpisode { meta, body: doc.body.to_owned(), body_line }), reader.problems)
}

/// `10-where.md` → 10: the leading digits of the file name.
pub fn number_from_file_name(source: &str) -> Option<u64> {
    let name = source.rsplit('/').next().unwrap_or(source);
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The permalink of episode `number` of `series`.
pub fn permalink(series: &Series, number: u64) -> Url {
    let mut url = series.home.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(&number.to_string()).push("");
    }
    url
}

/// Renders the body and resolves every URL; warns about references to
/// files that do not exist. `measure` tells the type, size and duration of
/// a media file of the content folder (by content path).
pub fn assemble(
    parsed: ParsedEpisode,
    series: &Series,
    site_base: &Url,
    targets: &LinkTargets,
    measure: &dyn Fn(&str) -> Result<Measured, String>,
) -> (Episode, Vec<Diagnostic>) {
    let ParsedEpisode { meta, body, body_line } = parsed;
    let permalink = permalink(series, meta.number);
    let mut problems = Vec::new();
    let mut assets = Vec::new();
    let mut links = Vec::new();
    let mut rewrite = |reference: &str, offset: Option<usize>| {
        let resolved = resolve(reference, &series.home, &permalink, site_base, targets);
        links.extend(resolved.looked_up);
        if resolved.missing {
            let line = offset.map(|o| body_line + line_of_offset(&body, o) - 1);
            problems.push(
                Diagnostic::warning(
                    &meta.path,
                    format!(
                        "`{reference}` is not a file in the content folder; it is linked as {}",
                        resolved.url
                    ),
                )
                .at(line, None),
            );
        }
        assets.extend(resolved.asset);
        resolved.url
    };
    let rendered = markdown::render(&body, &mut |reference, offset| rewrite(reference, Some(offset)));
    let image = meta.image.as_deref().map(|image| rewrite(image, None));
    let transcript = meta.podcast.transcript.as_deref().and_then(|reference| {
        let mime_type = media::transcript_type(reference)?;
        Some(Transcript { url: rewrite(reference, None), mime_type })
    });
    let media = meta.podcast.media.as_deref().and_then(|reference| {
        let resolved = resolve(reference, &series.home, &permalink, site_base, targets);
        links.extend(resolved.looked_up.clone());
        let media = resolve_media(&meta, resolved, measure, &mut problems)?;
        assets.extend(media.asset.clone());
        Some(media)
    });
    if rendered.removed_characters > 0 {
        problems.push(Diagnostic::warning(
            &meta.path,
            format!(
                "removed {} invisible control character(s) written as character references (like &#11;) that feeds cannot carry",
                rendered.removed_characters
            ),
        ));
    }
    let summary = match &meta.summary {
        Some(summary) => summary.clone(),
        None => truncate_on_word(&rendered.first_paragraph, SUMMARY_LIMIT),
    };
    assets.sort();
    assets.dedup();
    links.sort();
    links.dedup();
    let episode = Episode {
        title: series.title_format.apply(meta.number, &meta.title),
        id: meta.id.clone().unwrap_or_else(|| permalink.to_string()),
        permalink,
        summary,
        content_html: PackedText::new(&rendered.html),
        image,
        media,
        transcript,
        assets,
        links,
        meta,
    };
    (episode, problems)
}

/// The episode's media: one of our files, measured (an error when it is
/// not there or not audio or video: never a feed item without its audio),
/// or a file elsewhere, described by the front matter.
fn resolve_media(
    meta: &EpisodeMeta,
    resolved: links::Resolved,
    measure: &dyn Fn(&str) -> Result<Measured, String>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Media> {
    let podcast = &meta.podcast;
    let at = |diagnostic: Diagnostic| diagnostic.at(podcast.media_line, None);
    let reference = podcast.media.as_deref().unwrap_or_default();
    if let Some(asset) = resolved.asset {
        let measured = match measure(&asset) {
            Ok(measured) => measured,
            Err(why) => {
                problems.push(at(Diagnostic::error(&meta.path, format!("`media` `{reference}`: {why}"))));
                return None;
            }
        };
        if podcast.media_length.is_some() {
            problems.push(at(Diagnostic::warning(
                &meta.path,
                "`media_length` is ignored: the file's own size is used",
            )));
        }
        let by_name = media::mime_type_of_name(&asset);
        if by_name != measured.mime_type {
            problems.push(at(Diagnostic::warning(
                &meta.path,
                format!(
                    "`media` `{reference}` holds {}, though its name says {by_name}: it is announced and served as what it holds, but a server or CDN in front may go by the name; give it the right extension",
                    measured.mime_type
                ),
            )));
        }
        let duration = podcast.duration.or(measured.duration);
        let (mime_type, length) = (measured.mime_type, measured.length);
        return Some(Media { url: resolved.url, asset: Some(asset), mime_type, length, duration });
    }
    if resolved.missing || resolved.looked_up.is_some() {
        let why = format!("`media` `{reference}` is not a file in the content folder");
        problems.push(at(Diagnostic::error(&meta.path, why)));
        return None;
    }
    if podcast.media_length.is_none() {
        problems.push(at(Diagnostic::warning(
            &meta.path,
            "`media` is hosted elsewhere: add `media_length` (its size in bytes), which podcast apps need",
        )));
    }
    if podcast.duration.is_none() {
        problems.push(at(Diagnostic::warning(
            &meta.path,
            "`media` is hosted elsewhere: add `duration` (like 0:30:30), which podcast apps show",
        )));
    }
    Some(Media {
        mime_type: media::mime_type_of_name(&resolved.url),
        url: resolved.url,
        asset: None,
        length: podcast.media_length.unwrap_or(0),
        duration: podcast.duration,
    })
}
