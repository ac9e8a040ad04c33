//! [`Feed`] → RSS 2.0, written by the `rss` crate (which escapes text and
//! splits `]]>` inside CDATA). Names go to `dc:creator`: RSS `author` is an
//! e-mail address by the spec, and readers show garbage otherwise.

use super::history::NAMESPACE;
use super::{Feed, GENERATOR, RSS, VERSION, join};
use crate::model::Author;
use rss::extension::Extension;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Image, Item};
use std::collections::BTreeMap;

pub fn render(feed: &Feed<'_>) -> Vec<u8> {
    let mut channel = Channel {
        title: feed.title.to_owned(),
        link: feed.home.to_string(),
        description: feed.description.to_owned(),
        language: Some(feed.language.to_owned()),
        managing_editor: feed.author.and_then(mailbox),
        generator: Some(format!("{GENERATOR} {VERSION}")),
        categories: feed.categories.iter().map(|c| category(c)).collect(),
        pub_date: feed.items.first().map(|item| item.episode.meta.published.rfc2822()),
        // Content-derived, unlike the usual wall clock, so rebuilding an
        // unchanged site yields identical bytes.
        last_build_date: feed.items.first().map(|_| feed.updated().rfc2822()),
        ..Channel::default()
    };
    channel.image = feed.image.as_ref().map(|url| Image {
        url: url.clone(),
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
    channel.dublin_core_ext =
        feed.author.map(|a| DublinCoreExtension { creators: vec![a.name.clone()], ..Default::default() });
    channel.items = feed.items.iter().map(|item| render_item(item)).collect();
    channel.write_to(Vec::new()).expect("writing XML to a Vec cannot fail")
}

fn render_item(item: &super::Item<'_>) -> Item {
    let episode = item.episode;
    Item {
        title: Some(episode.title.clone()),
        link: Some(episode.permalink.to_string()),
        description: Some(episode.summary.clone()),
        author: item.author.and_then(mailbox),
        categories: episode.meta.tags.iter().map(|c| category(c)).collect(),
        guid: Some(Guid { value: episode.id.clone(), permalink: episode.id_is_permalink() }),
        pub_date: Some(episode.meta.published.rfc2822()),
        content: Some(episode.content_html.clone()),
        dublin_core_ext: item
            .author
            .map(|a| DublinCoreExtension { creators: vec![a.name.clone()], ..Default::default() }),
        ..Item::default()
    }
}

/// `writer@example.com (Name)`, the RSS 2.0 form, only when there is an e-mail.
fn mailbox(author: &Author) -> Option<String> {
    author.email.as_ref().map(|email| format!("{email} ({})", author.name))
}

fn category(name: &str) -> Category {
    Category { name: name.to_owned(), domain: None }
}
