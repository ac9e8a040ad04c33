//! [`Feed`] → JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), by serde.
//! Optional members are left out rather than written as `null`.

use super::{Feed, JSON, join};
use crate::model::Author;
use serde::Serialize;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    /// Large: the cover, or the site's icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    /// Small and square: the site's icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub<'a>>,
    /// The next older document (RFC 5005's `prev-archive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    items: Vec<JsonItem<'a>>,
}

/// JSON Feed 1.1 `hubs`: where to subscribe for pushes.
#[derive(Serialize)]
struct JsonHub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: &'a str,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<JsonAttachment<'a>>,
}

/// An episode's audio or video.
#[derive(Serialize)]
struct JsonAttachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    size_in_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
}

pub fn render(feed: &Feed<'_>) -> Vec<u8> {
    let json = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title,
        home_page_url: feed.home.as_str(),
        feed_url: feed.self_url(JSON),
        description: feed.description,
        icon: feed.image.as_deref().or(feed.icon),
        favicon: feed.icon,
        authors: feed.author.map(author).into_iter().collect(),
        language: feed.language,
        hubs: feed.hub.map(|hub| JsonHub { kind: "WebSub", url: hub.as_str() }).into_iter().collect(),
        next_url: feed.history.older().map(|folder| join(folder, JSON)),
        items: feed
            .items
            .iter()
            .map(|item| {
                let episode = item.episode;
                JsonItem {
                    id: &episode.id,
                    url: episode.permalink.as_str(),
                    title: &episode.title,
                    content_html: item.content_html(),
                    summary: &episode.summary,
                    image: episode.image.as_deref(),
                    date_published: episode.meta.published.rfc3339(),
                    date_modified: episode.meta.updated.rfc3339(),
                    authors: item.author.map(author).into_iter().collect(),
                    tags: &episode.meta.tags,
                    attachments: episode
                        .media
                        .iter()
                        .map(|media| JsonAttachment {
                            url: &media.url,
                            mime_type: &media.mime_type,
                            size_in_bytes: media.length,
                            duration_in_seconds: media.duration,
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&json).expect("serializing plain structs cannot fail");
    bytes.push(b'\n');
    bytes
}

fn author(author: &Author) -> JsonAuthor<'_> {
    JsonAuthor { name: &author.name, url: author.url.as_deref() }
}
