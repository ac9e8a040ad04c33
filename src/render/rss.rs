//! [`Feed`] → RSS 2.0, written by the `rss` crate (which escapes text and
//! splits `]]>` inside CDATA).
//!
//! Each person is named once per element (the W3C validator's
//! `DuplicateSemantics`): RSS `author`/`managingEditor` is an e-mail address
//! by the spec, so it is used, as `email (Name)`, when there is one, and
//! `dc:creator` with the name otherwise. An item's `description` is read as
//! HTML by every reader, so the plain-text summary is escaped as HTML first.
//! `&`, `<` and `>` are written as hexadecimal character references (the
//! RSS Profile's advice, which the validator checks), see [`hex_references`].

use super::history::NAMESPACE;
use super::{Feed, GENERATOR, RSS, VERSION, html_escaped, join};
use crate::model::media::{EpisodeType, Media};
use crate::model::podcast::Podcast;
use crate::model::{Author, Episode};
use rss::extension::Extension;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::itunes::{ITunesCategory, ITunesChannelExtension, ITunesItemExtension, ITunesOwner};
use rss::{Category, Channel, Enclosure, Guid, Image, Item};
use std::collections::BTreeMap;

pub fn render(feed: &Feed<'_>) -> Vec<u8> {
    let mut channel = Channel {
        title: feed.title.to_owned(),
        link: feed.home.to_string(),
        description: feed.description.to_owned(),
        language: Some(feed.language.to_owned()),
        managing_editor: feed.author.and_then(mailbox),
        ttl: Some(ttl_minutes(feed.max_age).to_string()),
        generator: Some(format!("{GENERATOR} {VERSION}")),
        categories: feed.categories.iter().map(|c| category(c)).collect(),
        pub_date: feed.items.first().map(|item| item.episode.meta.published.rfc2822()),
        // Content-derived, unlike the usual wall clock, so rebuilding an
        // unchanged site yields identical bytes.
        last_build_date: feed.items.first().map(|_| feed.updated().rfc2822()),
        ..Channel::default()
    };
    channel.image = feed.image.as_deref().or(feed.icon).map(|url| Image {
        url: url.to_owned(),
        title: feed.title.to_owned(),
        link: feed.home.to_string(),
        ..Image::default()
    });
    let mut links = vec![Link {
        href: feed.self_url(RSS),
        rel: "self".to_owned(),
        mime_type: Some("application/rss+xml".to_owned()),
        ..Link::default()
    }];
    // WebSub §4: the hub, beside `self`, as atom:link.
    links.extend(feed.hub.map(|hub| Link {
        href: hub.to_string(),
        rel: "hub".to_owned(),
        ..Link::default()
    }));
    // RFC 5005 Appendix B: RSS carries the history links as atom:link.
    links.extend(feed.history.links().into_iter().map(|(rel, folder)| Link {
        href: join(folder, RSS),
        rel: rel.to_owned(),
        mime_type: Some("application/rss+xml".to_owned()),
        ..Link::default()
    }));
    channel.atom_ext = Some(AtomExtension { links });
    if let Some(marker) = feed.history.marker() {
        channel.namespaces.insert("fh".to_owned(), NAMESPACE.to_owned());
        let element = Extension { name: format!("fh:{marker}"), ..Extension::default() };
        channel.extensions.insert("fh".to_owned(), BTreeMap::from([(marker.to_owned(), vec![element])]));
    }
    channel.dublin_core_ext = feed.author.and_then(creator);
    channel.itunes_ext = feed.podcast.map(|podcast| itunes_channel(feed, podcast));
    if let Some(podcast) = feed.podcast {
        channel.namespaces.insert("podcast".to_owned(), PODCAST_NAMESPACE.to_owned());
        channel.extensions.insert("podcast".to_owned(), podcast_channel(podcast));
    }
    channel.items = feed.items.iter().map(|item| render_item(item, feed.podcast.is_some())).collect();
    hex_references(&channel.write_to(Vec::new()).expect("writing XML to a Vec cannot fail"))
}

/// The writer's `&amp;`, `&lt;` and `&gt;` as `&#x26;`, `&#x3C;` and
/// `&#x3E;`: the RSS Profile asks for these in plain text, because some
/// readers mishandle the named forms. Every occurrence in the document can
/// be replaced, not only in text: to an XML parser both forms are the same
/// character, and inside CDATA (descriptions, `content:encoded`) the text is
/// HTML, where they are the same character too. (Only inside a raw
/// `<script>` or `<style>` would the difference show, and readers drop
/// those.)
fn hex_references(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len() + xml.len() / 32);
    let mut rest = xml;
    while let Some(at) = rest.iter().position(|&b| b == b'&') {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        let (named, hex): (&[u8], &[u8]) = if rest.starts_with(b"&amp;") {
            (b"&amp;", b"&#x26;")
        } else if rest.starts_with(b"&lt;") {
            (b"&lt;", b"&#x3C;")
        } else if rest.starts_with(b"&gt;") {
            (b"&gt;", b"&#x3E;")
        } else {
            (b"&", b"&")
        };
        out.extend_from_slice(hex);
        rest = &rest[named.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// `podcast`: the feed is a podcast's (its channel has Apple's tags and
/// declares the podcast namespace), so its items carry `itunes:` and
/// `podcast:` tags; elsewhere an episode's media is its enclosure alone
/// (item tags without the channel's are what validators warn of).
fn render_item(item: &super::Item<'_>, podcast: bool) -> Item {
    let episode = item.episode;
    Item {
        title: Some(episode.title.clone()),
        link: Some(episode.permalink.to_string()),
        description: Some(html_escaped(&episode.summary)),
        author: item.author.and_then(mailbox),
        categories: episode.meta.tags.iter().map(|c| category(c)).collect(),
        guid: Some(Guid { value: episode.id.clone(), permalink: episode.id_is_permalink() }),
        pub_date: Some(episode.meta.published.rfc2822()),
        content: Some(item.content_html().to_owned()),
        dublin_core_ext: item.author.and_then(creator),
        enclosure: episode.media.as_ref().map(|media| Enclosure {
            url: media.url.clone(),
            length: media.length.to_string(),
            mime_type: media.mime_type.clone(),
        }),
        itunes_ext: episode.media.as_ref().filter(|_| podcast).map(|media| itunes_item(episode, media)),
        extensions: if podcast { podcast_item(episode) } else { BTreeMap::new() },
        ..Item::default()
    }
}

/// The Podcast Index namespace (podcastindex.org/namespace/1.0).
const PODCAST_NAMESPACE: &str = "https://podcastindex.org/namespace/1.0";

/// `<podcast:NAME ATTRS>VALUE</podcast:NAME>`.
fn podcast_tag(name: &str, value: Option<String>, attrs: &[(&str, &str)]) -> Extension {
    Extension {
        name: format!("podcast:{name}"),
        value,
        attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Extension::default()
    }
}

/// The rss crate's map of extension elements, by local name.
fn by_name(tags: Vec<Extension>) -> BTreeMap<String, Vec<Extension>> {
    let mut map: BTreeMap<String, Vec<Extension>> = BTreeMap::new();
    for tag in tags {
        let local = tag.name.trim_start_matches("podcast:").to_owned();
        map.entry(local).or_default().push(tag);
    }
    map
}

/// `podcast:guid`, `podcast:locked` (with the owner's e-mail when there is
/// one) and `podcast:funding`.
fn podcast_channel(podcast: &Podcast) -> BTreeMap<String, Vec<Extension>> {
    let locked = if podcast.locked { "yes" } else { "no" };
    let owner = podcast.owner.as_ref().and_then(|owner| owner.email.as_deref());
    let mut tags = vec![
        podcast_tag("guid", Some(podcast.guid.clone()), &[]),
        podcast_tag(
            "locked",
            Some(locked.to_owned()),
            // (A `Vec`: an array's default would be one empty attribute.)
            &owner.map(|email| vec![("owner", email)]).unwrap_or_default(),
        ),
    ];
    if let Some(funding) = &podcast.funding {
        tags.push(podcast_tag("funding", Some(funding.text.clone()), &[("url", &funding.url)]));
    }
    by_name(tags)
}

/// An episode's `podcast:season`, `podcast:episode` (a full episode
/// numbered above 0), `podcast:transcript`, and `itunes:title`.
fn podcast_item(episode: &Episode) -> BTreeMap<String, BTreeMap<String, Vec<Extension>>> {
    let podcast = &episode.meta.podcast;
    let mut tags = Vec::new();
    if episode.media.is_some() {
        tags.extend(podcast.season.map(|season| podcast_tag("season", Some(season.to_string()), &[])));
        if podcast.episode_type == EpisodeType::Full && episode.meta.number > 0 {
            tags.push(podcast_tag("episode", Some(episode.meta.number.to_string()), &[]));
        }
    }
    if let Some(transcript) = &episode.transcript {
        tags.push(podcast_tag(
            "transcript",
            None,
            &[("url", &transcript.url), ("type", transcript.mime_type)],
        ));
    }
    let mut extensions = BTreeMap::new();
    if !tags.is_empty() {
        extensions.insert("podcast".to_owned(), by_name(tags));
    }
    if episode.media.is_some() {
        // Apple shows the title as written, beside the number it already
        // has (`title_format` may have put the number in the item's title).
        // The rss crate's iTunes extension has no `title`.
        let title = Extension {
            name: "itunes:title".to_owned(),
            value: Some(episode.meta.title.clone()),
            ..Extension::default()
        };
        extensions.insert("itunes".to_owned(), BTreeMap::from([("title".to_owned(), vec![title])]));
    }
    extensions
}

/// Apple's tags for a podcast: its type, categories (a subcategory nested
/// in its parent), explicitness, owner, author and square artwork (the
/// series cover when `[podcast]` names none).
fn itunes_channel(feed: &Feed<'_>, podcast: &Podcast) -> ITunesChannelExtension {
    let category = |name: &str, sub: Option<Box<ITunesCategory>>| ITunesCategory {
        text: name.to_owned(),
        subcategory: sub,
    };
    ITunesChannelExtension {
        r#type: Some(podcast.kind.as_str().to_owned()),
        categories: podcast
            .categories
            .iter()
            .map(|c| category(c.name, c.sub.map(|sub| Box::new(category(sub, None)))))
            .collect(),
        explicit: Some(podcast.explicit.to_string()),
        owner: podcast
            .owner
            .as_ref()
            .map(|owner| ITunesOwner { name: Some(owner.name.clone()), email: owner.email.clone() }),
        author: feed.author.map(|author| author.name.clone()),
        image: podcast.image.as_ref().map(|cover| cover.url.clone()).or_else(|| feed.image.clone()),
        ..ITunesChannelExtension::default()
    }
}

/// Apple's tags for an episode with audio or video: its duration in whole
/// seconds, its type, season, explicitness and picture when it has them,
/// and its number for a full episode (a trailer or bonus goes unnumbered;
/// Apple takes no episode 0).
fn itunes_item(episode: &Episode, media: &Media) -> ITunesItemExtension {
    let podcast = &episode.meta.podcast;
    let numbered = podcast.episode_type == EpisodeType::Full && episode.meta.number > 0;
    ITunesItemExtension {
        duration: media.duration.map(|seconds| seconds.to_string()),
        episode_type: Some(podcast.episode_type.as_str().to_owned()),
        episode: numbered.then(|| episode.meta.number.to_string()),
        season: podcast.season.map(|season| season.to_string()),
        explicit: podcast.explicit.map(|explicit| explicit.to_string()),
        image: episode.image.clone(),
        ..ITunesItemExtension::default()
    }
}

/// `writer@example.com (Name)`, the RSS 2.0 form, only when there is an e-mail.
fn mailbox(author: &Author) -> Option<String> {
    author.email.as_ref().map(|email| format!("{email} ({})", author.name))
}

/// `dc:creator`, for a person with no e-mail to put in `author`.
fn creator(author: &Author) -> Option<DublinCoreExtension> {
    author
        .email
        .is_none()
        .then(|| DublinCoreExtension { creators: vec![author.name.clone()], ..Default::default() })
}

/// RSS `ttl` (minutes) for a document served with `max-age` seconds, so
/// that readers scheduling their next poll from `ttl` (Miniflux takes the
/// largest of `ttl`, `max-age` and `Expires`) agree with Cache-Control.
fn ttl_minutes(max_age: u32) -> u32 {
    max_age.div_ceil(60).max(1)
}

fn category(name: &str) -> Category {
    Category { name: name.to_owned(), domain: None }
}
