//! [`Feed`] → Atom 1.0 (RFC 4287), written by `atom_syndication`. Content is
//! always `type="html"` (escaped text): the crate writes `xhtml` raw, which
//! would let one bad tag in an episode break the whole feed.
//!
//! Titles and summaries are plain text (`type="text"`), except when they
//! hold `<` or `&`: some readers show `type="text"` as HTML, so such text is
//! written as the HTML that shows it literally (`type="html"`), and every
//! reader shows the same characters.

use super::history::NAMESPACE;
use super::{ATOM, Feed, GENERATOR, VERSION, html_escaped, join};
use crate::model::{Author, Instant};
use atom_syndication::extension::Extension;
use atom_syndication::{Category, Content, Entry, FixedDateTime, Generator, Link, Person, Text};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

pub fn render(feed: &Feed<'_>) -> Vec<u8> {
    let history = feed
        .history
        .links()
        .into_iter()
        .map(|(rel, folder)| link(&join(folder, ATOM), rel, Some("application/atom+xml")));
    let mut atom = atom_syndication::Feed {
        title: text(feed.title),
        id: feed.home.to_string(),
        updated: chrono_time(feed.updated()),
        // RFC 4287 §4.1.1: a feed without authors on every entry needs one
        // of its own; with none configured, the feed's title stands in.
        authors: vec![
            feed.author.map_or_else(|| Person { name: feed.title.to_owned(), ..Person::default() }, person),
        ],
        categories: feed.categories.iter().map(|c| category(c)).collect(),
        generator: Some(Generator {
            value: GENERATOR.to_owned(),
            uri: None,
            version: Some(VERSION.to_owned()),
        }),
        icon: feed.icon.map(str::to_owned),
        logo: feed.image.clone(),
        links: [
            Some(link(feed.home.as_str(), "alternate", Some("text/html"))),
            Some(link(&feed.self_url(ATOM), "self", Some("application/atom+xml"))),
            feed.hub.map(|hub| link(hub.as_str(), "hub", None)),
        ]
        .into_iter()
        .flatten()
        .chain(history)
        .collect(),
        subtitle: Some(feed.description).filter(|d| !d.is_empty()).map(text),
        entries: feed.items.iter().map(entry).collect(),
        lang: Some(feed.language.to_owned()),
        ..atom_syndication::Feed::default()
    };
    if let Some(marker) = feed.history.marker() {
        atom.namespaces.insert("fh".to_owned(), NAMESPACE.to_owned());
        let element = Extension { name: format!("fh:{marker}"), ..Extension::default() };
        atom.extensions.insert("fh".to_owned(), BTreeMap::from([(marker.to_owned(), vec![element])]));
    }
    atom.write_to(Vec::new()).expect("writing XML to a Vec cannot fail")
}

fn entry(item: &super::Item<'_>) -> Entry {
    let episode = item.episode;
    Entry {
        title: text(&episode.title),
        id: episode.id.clone(),
        updated: chrono_time(episode.meta.updated),
        published: Some(chrono_time(episode.meta.published)),
        authors: item.author.map(person).into_iter().collect(),
        categories: episode.meta.tags.iter().map(|c| category(c)).collect(),
        links: std::iter::once(link(episode.permalink.as_str(), "alternate", Some("text/html")))
            .chain(episode.media.as_ref().map(|media| Link {
                length: Some(media.length.to_string()),
                ..link(&media.url, "enclosure", Some(&media.mime_type))
            }))
            .collect(),
        summary: Some(text(&episode.summary)),
        content: Some(Content {
            value: Some(item.content_html().to_owned()),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// Plain text as an Atom text construct that every reader shows literally.
fn text(plain: &str) -> Text {
    if plain.contains(['<', '&']) { Text::html(html_escaped(plain)) } else { Text::plain(plain) }
}

/// atom_syndication speaks chrono; our instants are jiff.
fn chrono_time(instant: Instant) -> FixedDateTime {
    let offset = FixedOffset::east_opt(instant.offset.seconds())
        .unwrap_or(FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    DateTime::from_timestamp(instant.timestamp.as_second(), 0).unwrap_or_default().with_timezone(&offset)
}

fn person(author: &Author) -> Person {
    Person {
        name: author.name.clone(),
        email: author.email.clone(),
        uri: author.url.clone(),
        ..Person::default()
    }
}

fn link(href: &str, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href: href.to_owned(),
        rel: rel.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        ..Link::default()
    }
}

fn category(term: &str) -> Category {
    Category { term: term.to_owned(), ..Category::default() }
}
