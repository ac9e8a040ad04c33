//! An episode's audio or video, as its front matter names it, and what a
//! podcast app needs to know of it: where it is, its type, its exact size
//! and its duration.

use super::fields::FieldReader;
use crate::content::front_matter::Value;

/// The front-matter keys of this module.
pub const KEYS: [&str; 7] =
    ["media", "duration", "media_length", "season", "episode_type", "explicit", "transcript"];

/// Apple's `itunes:episodeType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EpisodeType {
    #[default]
    Full,
    Trailer,
    Bonus,
}

impl EpisodeType {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeType::Full => "full",
            EpisodeType::Trailer => "trailer",
            EpisodeType::Bonus => "bonus",
        }
    }
}

/// What the front matter says of the episode as a podcast episode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodcastMeta {
    /// A path relative to the series folder, or an absolute URL.
    pub media: Option<String>,
    /// The line `media` is on, for what is wrong with the file.
    pub media_line: Option<u32>,
    /// Seconds, when written (else read from the file).
    pub duration: Option<u64>,
    /// Bytes, for a file hosted elsewhere.
    pub media_length: Option<u64>,
    pub season: Option<u64>,
    pub episode_type: EpisodeType,
    pub explicit: Option<bool>,
    /// A path or URL of a `.vtt`, `.srt`, `.txt`, `.html` or `.json` file.
    pub transcript: Option<String>,
}

/// An episode's transcript, resolved (`podcast:transcript`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub url: String,
    pub mime_type: &'static str,
}

/// The transcript formats podcast apps read, by extension.
pub fn transcript_type(name: &str) -> Option<&'static str> {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    match path.rsplit_once('.')?.1.to_ascii_lowercase().as_str() {
        "vtt" => Some("text/vtt"),
        "srt" => Some("application/srt"),
        "txt" => Some("text/plain"),
        "html" | "htm" => Some("text/html"),
        "json" => Some("application/json"),
        _ => None,
    }
}

/// The episode's media, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub url: String,
    /// Its path in the content folder when it is one of ours: published,
    /// and measured by the pipeline.
    pub asset: Option<String>,
    pub mime_type: String,
    pub length: u64,
    pub duration: Option<u64>,
}

/// Reads the keys of [`KEYS`].
pub fn read(reader: &mut FieldReader<'_>) -> PodcastMeta {
    let media = reader.text("media").map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
    let duration = match reader.fields.get("duration").cloned() {
        Some(Value::String(text)) => {
            let _ = reader.text("duration");
            let seconds = parse_duration(&text);
            if seconds.is_none() {
                reader.error(
                    "duration",
                    format!(
                        "`duration` `{text}` is not a duration; write seconds (1830) or H:MM:SS (0:30:30)"
                    ),
                );
            }
            seconds
        }
        _ => reader.unsigned("duration"),
    };
    let media_length = reader.unsigned("media_length");
    let season = reader.unsigned("season");
    if season == Some(0) {
        reader.error("season", "`season` starts at 1");
    }
    let episode_type = match reader.text("episode_type").as_deref().map(str::trim) {
        None | Some("full") => EpisodeType::Full,
        Some("trailer") => EpisodeType::Trailer,
        Some("bonus") => EpisodeType::Bonus,
        Some(other) => {
            reader
                .error("episode_type", format!("`episode_type` is `{other}`; it is full, trailer or bonus"));
            EpisodeType::Full
        }
    };
    let explicit = reader.bool("explicit");
    let transcript = reader.text("transcript").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if let Some(name) = &transcript
        && transcript_type(name).is_none()
    {
        reader.error(
            "transcript",
            format!("`transcript` `{name}` is not a .vtt, .srt, .txt, .html or .json file"),
        );
    }
    if media.is_none() {
        for (key, set) in [("duration", duration.is_some()), ("media_length", media_length.is_some())] {
            if set {
                reader.warn(key, format!("`{key}` is ignored: the episode has no `media`"));
            }
        }
    }
    let media_line = reader.line("media");
    let season = season.filter(|&s| s > 0);
    PodcastMeta { media, media_line, duration, media_length, season, episode_type, explicit, transcript }
}

/// `1830`, `30:30` or `0:30:30` → 1830 seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let numbers: Vec<u64> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    // Minutes and seconds after the first part are below 60.
    if numbers.iter().skip(1).any(|&n| n >= 60) {
        return None;
    }
    numbers.iter().try_fold(0u64, |total, &n| total.checked_mul(60)?.checked_add(n))
}

/// What the pipeline measured of a local media file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measured {
    pub mime_type: String,
    pub length: u64,
    pub duration: Option<u64>,
}

/// The type of a file by its name, for media hosted elsewhere (ours are
/// typed by their content) and for serving: the types podcast apps expect
/// for the usual extensions (Apple's `audio/x-m4a`, not `audio/m4a`), else
/// the usual guess.
pub fn mime_type_of_name(name: &str) -> String {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let known = match extension.as_str() {
        "mp3" => "audio/mpeg",
        "m4a" | "m4b" => "audio/x-m4a",
        "aac" => "audio/aac",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "aif" | "aiff" => "audio/aiff",
        _ => return mime_guess::from_path(path).first_or_octet_stream().essence_str().to_owned(),
    };
    known.to_owned()
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_in_every_form() {
        assert_eq!(parse_duration("1830"), Some(1830));
        assert_eq!(parse_duration("30:30"), Some(1830));
        assert_eq!(parse_duration("0:30:30"), Some(1830));
        assert_eq!(parse_duration("1:02:03"), Some(3723));
        for bad in ["", "1:60", "1::2", "a", "1:2:3:4", "-5", "1.5"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
