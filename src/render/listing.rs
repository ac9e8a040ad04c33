//! The site's addresses listed for machines: `/subscriptions.opml` (OPML
//! 2.0, every series' feed, so a reader subscribes to all of them at once),
//! `/sitemap.xml` (sitemaps.org 0.9, every published page with the time its
//! content last changed) and `/robots.txt` naming the sitemap.
//!
//! Only published pages are listed, so nothing unpublished leaks here
//! either. XML goes through quick-xml's writer, which escapes text and
//! attributes. The sitemap of 10,000 episodes is a megabyte: it is made
//! (and compressed) again only when what it shows changed, an episode
//! published or updated, not on every edit of an episode's text.

use super::memo::Memo;
use super::{Output, OutputKind, ROBOTS, RSS, SITEMAP, SUBSCRIPTIONS, join};
use crate::model::{Catalog, Instant};
use jiff::Timestamp;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::fmt::Write as _;
use std::io;

/// The memo's name for documents of the whole site (no series has it).
const SITE: &str = "";

/// The sitemaps.org namespace (protocol 0.9).
const SITEMAP_NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// The three listings. robots.txt only when the site is the whole host:
/// crawlers read it at `/robots.txt` only, which a site under a path does
/// not own.
pub fn render_listings(catalog: &Catalog, now: Timestamp, memo: &mut Memo) -> Vec<Output> {
    // The sitemap gains an episode when it goes live.
    let changes_at = catalog.next_scheduled(now);
    // What the sitemap shows, written out: cheap beside making it.
    let mut shown = format!("{changes_at:?}\n");
    for entry in &catalog.series {
        let _ = writeln!(shown, "{}", entry.series.home);
        for episode in entry.published(now) {
            // Numbers, not the date as shown: formatting 10,000 dates would
            // cost more than the rest of an edit's sitemap check.
            let updated = &episode.meta.updated;
            let (at, offset) = (updated.timestamp, updated.offset.seconds());
            let _ = writeln!(
                shown,
                "{} {} {} {offset}",
                episode.permalink,
                at.as_second(),
                at.subsec_nanosecond()
            );
        }
    }
    let sitemap = match memo.get(SITE, SITEMAP, &[], &shown) {
        Some(kept) => kept,
        None => {
            let mut sitemap = Output::new(SITEMAP.to_owned(), OutputKind::Listing, sitemap(catalog, now));
            sitemap.changes_at = changes_at;
            memo.put(SITE, SITEMAP, &[], shown, vec![sitemap.clone()]);
            vec![sitemap]
        }
    };
    let mut outputs =
        vec![Output::new(SUBSCRIPTIONS.to_owned(), OutputKind::Listing, subscriptions(catalog))];
    outputs.extend(sitemap);
    if catalog.site.base_url.path() == "/" {
        outputs.push(Output::new(ROBOTS.to_owned(), OutputKind::Listing, robots(catalog)));
    }
    outputs
}

/// OPML 2.0 (<https://opml.org/spec2.opml>): one `type="rss"` outline per
/// series, in its own language. No `dateModified`: the list changes only
/// when a series does, and a date would make it change with every episode.
fn subscriptions(catalog: &Catalog) -> Vec<u8> {
    let site = &catalog.site;
    document(|w| {
        w.create_element("opml").with_attribute(("version", "2.0")).write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                text_element(w, "title", &site.title)?;
                if let Some(author) = &site.author {
                    text_element(w, "ownerName", &author.name)?;
                    if let Some(email) = &author.email {
                        text_element(w, "ownerEmail", email)?;
                    }
                }
                text_element(w, "docs", "https://opml.org/spec2.opml")
            })?;
            w.create_element("body").write_inner_content(|w| {
                for entry in &catalog.series {
                    let series = &entry.series;
                    let mut outline = w.create_element("outline").with_attributes([
                        ("type", "rss"),
                        ("text", series.title.as_str()),
                        ("title", series.title.as_str()),
                        ("xmlUrl", join(&series.home, RSS).as_str()),
                        ("htmlUrl", series.home.as_str()),
                        ("language", series.language.as_str()),
                    ]);
                    if !series.description.is_empty() {
                        outline = outline.with_attribute(("description", series.description.as_str()));
                    }
                    outline.write_empty()?;
                }
                Ok(())
            })?;
            Ok(())
        })
    })
}

/// Every published page: the index, each series' page, each published
/// episode's page; `lastmod` is the newest `updated` the page shows.
fn sitemap(catalog: &Catalog, now: Timestamp) -> Vec<u8> {
    let newest = |instants: &mut dyn Iterator<Item = Instant>| instants.max_by_key(|i| i.timestamp);
    let mut pages: Vec<(String, Option<Instant>)> = Vec::new();
    let all = newest(&mut catalog.series.iter().flat_map(|e| e.published(now)).map(|e| e.meta.updated));
    pages.push((catalog.site.base_url.to_string(), all));
    for entry in &catalog.series {
        let mut episodes: Vec<_> = entry.published(now).collect();
        episodes.sort_by_key(|e| e.meta.number);
        let series_updated = newest(&mut episodes.iter().map(|e| e.meta.updated));
        pages.push((entry.series.home.to_string(), series_updated));
        pages.extend(episodes.iter().map(|e| (e.permalink.to_string(), Some(e.meta.updated))));
    }
    document(|w| {
        w.create_element("urlset").with_attribute(("xmlns", SITEMAP_NAMESPACE)).write_inner_content(|w| {
            for (location, updated) in &pages {
                w.create_element("url").write_inner_content(|w| {
                    text_element(w, "loc", location)?;
                    if let Some(updated) = updated {
                        text_element(w, "lastmod", &updated.rfc3339())?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
    })
}

fn robots(catalog: &Catalog) -> String {
    let sitemap = join(&catalog.site.base_url, SITEMAP);
    format!(
        "# Every page may be crawled; the sitemap lists them.\nUser-agent: *\nAllow: /\n\nSitemap: {sitemap}\n"
    )
}

/// An XML document written by `body`, indented, ending with a newline.
fn document(body: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<&mut Writer<Vec<u8>>>) -> Vec<u8> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| body(&mut writer).map(|_| ()))
        .expect("writing XML to a Vec cannot fail");
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    bytes
}

fn text_element(writer: &mut Writer<Vec<u8>>, name: &str, text: &str) -> io::Result<()> {
    writer.create_element(name).write_text_content(BytesText::new(text)).map(|_| ())
}
