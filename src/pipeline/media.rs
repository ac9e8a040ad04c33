//! Measures an episode's audio or video in the content folder for its feed
//! entry: its exact size, its type read from its content (a `.mp3` that is
//! really AAC is typed as AAC), and its duration, from the file's own
//! headers (lofty reads them; the sound itself is not decoded).

use crate::diagnostic::Diagnostic;
use crate::model::media::{EpisodeType, Measured};
use crate::model::podcast::PodcastType;
use crate::model::{Catalog, Episode};
use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType};
use lofty::probe::Probe;
use std::path::Path;

/// What podcast apps are told of the file at `path`.
pub fn measure(path: &Path) -> Result<Measured, String> {
    let length = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?.len();
    let unknown =
        "it is not audio or video episodic can read (MP3, M4A/AAC, MP4, Ogg Vorbis or Opus, FLAC, WAV)";
    let probe = Probe::open(path)
        .map(|probe| probe.options(ParseOptions::new().read_tags(false).read_cover_art(false)))
        .map_err(|e| format!("cannot read it: {e}"))?
        .guess_file_type()
        .map_err(|e| format!("cannot read it: {e}"))?;
    let Some(file_type) = probe.file_type() else { return Err(unknown.to_owned()) };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let mime_type = match file_type {
        FileType::Mpeg => "audio/mpeg",
        FileType::Mp4 if extension == "mov" => "video/quicktime",
        FileType::Mp4 if ["mp4", "m4v"].contains(&extension.as_str()) => "video/mp4",
        FileType::Mp4 => "audio/x-m4a",
        FileType::Aac => "audio/aac",
        FileType::Opus | FileType::Vorbis | FileType::Speex => "audio/ogg",
        FileType::Flac => "audio/flac",
        FileType::Wav => "audio/wav",
        FileType::Aiff => "audio/aiff",
        _ => return Err(unknown.to_owned()),
    };
    let tagged = probe.read().map_err(|e| format!("cannot read its audio headers: {e}"))?;
    let seconds = tagged.properties().duration().as_secs_f64().round();
    // A stream with no length given (a live recording's) says zero.
    let duration = (seconds >= 1.0).then_some(seconds as u64);
    Ok(Measured { mime_type: mime_type.to_owned(), length, duration })
}

/// Warnings for what podcast apps would get wrong: artwork, and a serial's
/// dates out of episode order.
pub fn check_podcasts(content: &Path, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = check_artwork(content, catalog);
    problems.extend(check_serial_order(catalog));
    problems
}

/// In a serial, apps that sort by date must find the episodes in their
/// order: a full episode dated before an earlier-numbered one is a warning
/// at its `date` (trailers and bonus episodes stand outside the order).
fn check_serial_order(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for entry in &catalog.series {
        let Some(podcast) = &entry.series.podcast else { continue };
        if podcast.kind != PodcastType::Serial {
            continue;
        }
        let full = entry
            .episodes
            .iter()
            .filter(|e| !e.meta.draft && e.meta.podcast.episode_type == EpisodeType::Full);
        let mut latest: Option<&Episode> = None;
        for episode in full {
            match latest {
                Some(before) if episode.meta.published.timestamp < before.meta.published.timestamp => {
                    let shown = |e: &Episode| {
                        e.meta.published.timestamp.to_zoned_datetime(entry.series.timezone.clone())
                    };
                    problems.push(
                        Diagnostic::warning(
                            &episode.meta.path,
                            format!(
                                "this serial's episode {} is dated {}, before episode {} ({}): apps that sort by date would play them out of order; date it after episode {}",
                                episode.meta.number,
                                shown(episode).strftime("%Y-%m-%d %H:%M"),
                                before.meta.number,
                                shown(before).strftime("%Y-%m-%d %H:%M"),
                                before.meta.number,
                            ),
                        )
                        .at(episode.meta.date_line, None),
                    );
                }
                _ => latest = Some(episode),
            }
        }
    }
    problems
}

/// Warnings for podcast artwork Apple Podcasts would refuse: not a JPEG or
/// PNG, not square, or outside 1400–3000 px (its header is read, never the
/// picture).
fn check_artwork(content: &Path, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for entry in &catalog.series {
        let Some(podcast) = &entry.series.podcast else { continue };
        let Some(cover) = podcast.image.as_ref().or(entry.series.image.as_ref()) else {
            let path = content.join(&entry.series.slug).join("series.toml");
            problems.push(Diagnostic::warning(
                path,
                "`[podcast]` has no `image`: Apple Podcasts needs square artwork of 1400 to 3000 px",
            ));
            continue;
        };
        let Some(asset) = &cover.asset else { continue };
        let file = content.join(asset);
        let kind = std::fs::File::open(&file).ok().and_then(|mut f| {
            let mut head = [0u8; 16];
            std::io::Read::read(&mut f, &mut head).ok()?;
            imagesize::image_type(&head).ok()
        });
        let why = match (kind, imagesize::size(&file)) {
            (Some(imagesize::ImageType::Jpeg | imagesize::ImageType::Png), Ok(size)) => {
                let (w, h) = (size.width, size.height);
                (w != h || !(1400..=3000).contains(&w))
                    .then(|| format!("it is {w}×{h} px; Apple Podcasts wants a square of 1400 to 3000 px"))
            }
            _ => Some("it is not a JPEG or PNG picture, which Apple Podcasts needs".to_owned()),
        };
        if let Some(why) = why {
            problems.push(Diagnostic::warning(&file, format!("podcast artwork: {why}")));
        }
    }
    problems
}
