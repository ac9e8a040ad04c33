//! What the page templates see: the site, series, episodes and feeds as
//! plain serializable views (dates already shown in the series' time zone),
//! and the built-in templates' words in the page's language. This is the
//! contract a writer's templates are written against; README lists it.

use super::{ATOM, JSON, RSS, join};
use crate::model::media::Media;
use crate::model::{Author, Episode, Series, Site};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use minijinja::Value;
use minijinja::value::{Enumerator, Object};
use serde::Serialize;
use std::sync::Arc;
use url::Url;

/// The words of the built-in templates, in the page's language.
#[derive(Serialize)]
pub(super) struct Words {
    pub(super) skip: &'static str,
    pub(super) made_with: &'static str,
    pub(super) subscribe: &'static str,
    pub(super) feed_help: &'static str,
    pub(super) series: &'static str,
    pub(super) latest: &'static str,
    pub(super) episodes: &'static str,
    pub(super) none_yet: &'static str,
    pub(super) by: &'static str,
    pub(super) schedule: &'static str,
    pub(super) cover: &'static str,
    pub(super) episode_nav: &'static str,
    pub(super) all_episodes: &'static str,
    pub(super) opml_help: &'static str,
    pub(super) transcript: &'static str,
    pub(super) podcast_help: &'static str,
}

const ENGLISH: Words = Words {
    skip: "Skip to content",
    made_with: "Published with episodic.",
    subscribe: "Subscribe",
    feed_help: "Paste one of these addresses into a feed reader (NetNewsWire, Feedly, Inoreader, Miniflux…) and each new episode comes to you as it is published. The three formats carry the same episodes: use whichever your reader takes.",
    series: "Series",
    latest: "Latest",
    episodes: "Episodes",
    none_yet: "No episodes yet.",
    by: "by",
    schedule: "New episodes",
    cover: "cover",
    episode_nav: "Episodes",
    all_episodes: "All episodes",
    opml_help: "Or subscribe to every series at once: import this list into your reader:",
    transcript: "Transcript",
    podcast_help: "Listen in a podcast app: paste this address into Apple Podcasts (Follow a Show by URL), Pocket Casts, Overcast or AntennaPod, and each new episode arrives as it is published.",
};

const KOREAN: Words = Words {
    skip: "본문으로 건너뛰기",
    made_with: "episodic으로 발행합니다.",
    subscribe: "구독하기",
    feed_help: "아래 주소 중 하나를 피드 리더(NetNewsWire, Feedly, Inoreader, Miniflux 등)에 붙여 넣으면 새 화가 올라올 때마다 알아서 받아 볼 수 있습니다. 세 형식 모두 내용은 같으니 리더가 읽는 것을 고르세요.",
    series: "연재 목록",
    latest: "최신화",
    episodes: "회차",
    none_yet: "아직 공개된 회차가 없습니다.",
    by: "작가",
    schedule: "연재 일정",
    cover: "표지",
    episode_nav: "회차 이동",
    all_episodes: "전체 회차",
    opml_help: "모든 연재를 한 번에 구독하려면 이 목록을 리더에서 가져오세요:",
    transcript: "대본",
    podcast_help: "팟캐스트 앱으로 들으려면 이 주소를 Apple 팟캐스트(URL로 프로그램 팔로우), Pocket Casts, Overcast, AntennaPod 등에 붙여 넣으세요. 새 화가 올라올 때마다 앱에 들어옵니다.",
};

pub(super) fn words(language: &str) -> &'static Words {
    let primary = language.split('-').next().unwrap_or(language);
    if primary.eq_ignore_ascii_case("ko") { &KOREAN } else { &ENGLISH }
}

#[derive(Serialize)]
pub(super) struct PageMeta<'a> {
    /// Open Graph type: `website` or `article`.
    pub(super) kind: &'static str,
    pub(super) title: &'a str,
    pub(super) description: &'a str,
    pub(super) url: &'a str,
    pub(super) image: Option<&'a str>,
    pub(super) lang: &'a str,
    pub(super) feeds: Vec<FeedLink>,
    /// The OPML list of every series' feed (on the site's index page).
    pub(super) opml: Option<LinkView>,
    /// The address to paste into a podcast app (a podcast series' RSS).
    pub(super) podcast: Option<String>,
}

/// An address both ways: absolute, and as a path that works wherever the
/// page is served from (a local preview included).
#[derive(Serialize)]
pub(super) struct LinkView {
    pub(super) url: String,
    pub(super) path: String,
}

impl LinkView {
    pub(super) fn of(folder: &Url, name: &str) -> Self {
        let url = join(folder, name);
        let path = same_origin_path(&url, folder).to_owned();
        LinkView { url, path }
    }
}

#[derive(Serialize)]
pub(super) struct FeedLink {
    pub(super) format: &'static str,
    pub(super) name: &'static str,
    #[serde(rename = "type")]
    pub(super) media_type: &'static str,
    pub(super) title: String,
    pub(super) url: String,
}

/// What a podcast app follows: the RSS feed of a `[podcast]` series.
pub(super) fn podcast_feed(series: &Series) -> Option<String> {
    series.podcast.as_ref().map(|_| join(&series.home, RSS))
}

/// The three feeds in `folder`, titled after `title`.
pub(super) fn feed_links(title: &str, folder: &Url) -> Vec<FeedLink> {
    [
        ("rss", "RSS", "application/rss+xml", RSS),
        ("atom", "Atom", "application/atom+xml", ATOM),
        ("json", "JSON Feed", "application/feed+json", JSON),
    ]
    .into_iter()
    .map(|(format, name, media_type, file)| FeedLink {
        format,
        name,
        media_type,
        title: format!("{title} ({name})"),
        url: join(folder, file),
    })
    .collect()
}

#[derive(Serialize)]
pub(super) struct SiteView<'a> {
    pub(super) title: &'a str,
    pub(super) description: &'a str,
    pub(super) url: &'a str,
    pub(super) path: &'a str,
    pub(super) icon: Option<IconView<'a>>,
}

/// The site's icon, for `<link rel="icon">`.
#[derive(Serialize)]
pub(super) struct IconView<'a> {
    pub(super) url: &'a str,
    pub(super) path: &'a str,
    #[serde(rename = "type")]
    pub(super) media_type: String,
}

impl<'a> SiteView<'a> {
    pub(super) fn of(site: &'a Site) -> Self {
        SiteView {
            title: &site.title,
            description: &site.description,
            url: site.base_url.as_str(),
            path: site.base_url.path(),
            icon: site.icon.as_ref().map(|icon| IconView {
                url: &icon.url,
                path: same_origin_path(&icon.url, &site.base_url),
                media_type: mime_guess::from_path(&icon.asset).first_or_octet_stream().to_string(),
            }),
        }
    }
}

#[derive(Serialize)]
pub(super) struct AuthorView<'a> {
    pub(super) name: &'a str,
    pub(super) url: Option<&'a str>,
}

pub(super) fn author(author: Option<&Author>) -> Option<AuthorView<'_>> {
    author.map(|a| AuthorView { name: &a.name, url: a.url.as_deref() })
}

#[derive(Serialize)]
pub(super) struct SeriesView<'a> {
    pub(super) slug: &'a str,
    pub(super) title: &'a str,
    pub(super) description: &'a str,
    pub(super) url: &'a str,
    pub(super) path: &'a str,
    pub(super) cover: Option<&'a str>,
    pub(super) author: Option<AuthorView<'a>>,
    pub(super) schedule: Option<&'a str>,
    pub(super) latest: Option<EpisodeLink<'a>>,
}

impl<'a> SeriesView<'a> {
    pub(super) fn of(series: &'a Series, latest: Option<&'a Episode>) -> Self {
        SeriesView {
            slug: &series.slug,
            title: &series.title,
            description: &series.description,
            url: series.home.as_str(),
            path: series.home.path(),
            cover: series.image.as_ref().map(|c| same_origin_path(&c.url, &series.home)),
            author: author(series.author.as_ref()),
            schedule: series.schedule.as_deref(),
            latest: latest.map(|e| EpisodeLink::of(e, &series.timezone)),
        }
    }
}

/// `url` as a path when it is on the site's own host, so a page shows its
/// pictures wherever it is served from (a local preview included).
pub(super) fn same_origin_path<'a>(url: &'a str, home: &Url) -> &'a str {
    let origin = home.origin().ascii_serialization();
    url.strip_prefix(origin.as_str()).filter(|path| path.starts_with('/')).unwrap_or(url)
}

/// A date shown in the series' time zone, and as RFC 3339 for `<time>`.
#[derive(Serialize)]
pub(super) struct DateView {
    pub(super) iso: String,
    pub(super) text: String,
}

impl DateView {
    pub(super) fn of(at: Timestamp, tz: &TimeZone) -> Self {
        let zoned = at.to_zoned_datetime(tz.clone());
        DateView {
            iso: zoned.timestamp().display_with_offset(zoned.offset()).to_string(),
            text: zoned.strftime("%Y-%m-%d %H:%M %Z").to_string(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct EpisodeLink<'a> {
    pub(super) number: u64,
    pub(super) title: &'a str,
    pub(super) url: &'a str,
    pub(super) path: &'a str,
    pub(super) date: DateView,
}

impl<'a> EpisodeLink<'a> {
    pub(super) fn of(episode: &'a Episode, tz: &TimeZone) -> Self {
        EpisodeLink {
            number: episode.meta.number,
            title: &episode.title,
            url: episode.permalink.as_str(),
            path: episode.permalink.path(),
            date: DateView::of(episode.meta.published.timestamp, tz),
        }
    }
}

/// An [`EpisodeLink`] as a template value, made once per version of an
/// episode and kept by the memo: a series page lists all 10,000. The
/// strings a series page shows are values already (a lookup clones a
/// pointer); the rest is made when asked for.
#[derive(Debug)]
pub(super) struct LinkObject {
    episode: Arc<Episode>,
    title: Value,
    path: Value,
    date: Value,
}

impl LinkObject {
    pub(super) fn value(episode: &Arc<Episode>, tz: &TimeZone) -> Value {
        let DateView { iso, text } = DateView::of(episode.meta.published.timestamp, tz);
        let date = Value::from_object(DateObject { iso: Value::from(iso), text: Value::from(text) });
        Value::from_object(LinkObject {
            episode: Arc::clone(episode),
            title: Value::from(episode.title.as_str()),
            path: Value::from(episode.permalink.path()),
            date,
        })
    }
}

/// A [`DateView`], its strings made once.
#[derive(Debug)]
struct DateObject {
    iso: Value,
    text: Value,
}

impl Object for DateObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    /// Without this, minijinja makes a string value of the key for each
    /// lookup: 40,000 of them per series page.
    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        match key {
            "iso" => Some(self.iso.clone()),
            "text" => Some(self.text.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["iso", "text"])
    }
}

impl Object for LinkObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let episode = &self.episode;
        match key {
            "number" => Some(Value::from(episode.meta.number)),
            "title" => Some(self.title.clone()),
            "url" => Some(Value::from(episode.permalink.as_str())),
            "path" => Some(self.path.clone()),
            "date" => Some(self.date.clone()),
            _ => None,
        }
    }

    /// The fields of [`EpisodeLink`], in its order.
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["number", "title", "url", "path", "date"])
    }
}

#[derive(Serialize)]
pub(super) struct EpisodeView<'a> {
    pub(super) number: u64,
    pub(super) title: &'a str,
    pub(super) url: &'a str,
    pub(super) path: &'a str,
    pub(super) date: DateView,
    pub(super) updated: DateView,
    pub(super) summary: &'a str,
    pub(super) image: Option<&'a str>,
    pub(super) tags: &'a [String],
    pub(super) author: Option<AuthorView<'a>>,
    pub(super) media: Option<MediaView<'a>>,
    pub(super) transcript: Option<&'a str>,
}

/// An episode's audio or video, for its player.
#[derive(Serialize)]
pub(super) struct MediaView<'a> {
    pub(super) url: &'a str,
    #[serde(rename = "type")]
    pub(super) mime_type: &'a str,
    pub(super) video: bool,
    pub(super) length: u64,
    pub(super) duration: Option<DurationView>,
}

impl<'a> MediaView<'a> {
    pub(super) fn of(media: &'a Media) -> Self {
        MediaView {
            url: &media.url,
            mime_type: &media.mime_type,
            video: media.mime_type.starts_with("video/"),
            length: media.length,
            duration: media.duration.map(DurationView::of),
        }
    }
}

/// A duration as people read it (`1:02:03`, `30:30`) and as ISO 8601 for
/// `<time datetime>` (`PT1H2M3S`).
#[derive(Serialize)]
pub(super) struct DurationView {
    pub(super) seconds: u64,
    pub(super) iso: String,
    pub(super) text: String,
}

impl DurationView {
    fn of(seconds: u64) -> Self {
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let text = if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") };
        DurationView { seconds, iso: format!("PT{h}H{m}M{s}S"), text }
    }
}
