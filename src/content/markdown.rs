//! Markdown → HTML (CommonMark with tables, footnotes and strikethrough),
//! with every link, image and footnote URL — and `href`/`src`/`poster`/
//! `srcset` in raw HTML such as `<audio src="01.mp3">` — passed through a
//! caller-supplied rewrite, so that the feed carries only absolute URLs: feed
//! readers show content away from its page, where a relative URL points
//! nowhere.

use super::text::is_xml_char;
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};
use pulldown_cmark_escape::{escape_href, escape_html};
use std::collections::HashMap;

/// An episode body as HTML plus the plain text of its first paragraph (the
/// default summary).
#[derive(Debug, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub first_paragraph: String,
    /// Characters XML forbids that arrived through character references
    /// (`&#11;`) and were dropped.
    pub removed_characters: usize,
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

/// Renders `markdown`, calling `rewrite` with each link and image
/// destination (and `#name` for footnote references) and the byte offset
/// where it is written, and using the URL it returns.
pub fn render(markdown: &str, rewrite: &mut dyn FnMut(&str, usize) -> String) -> Rendered {
    let mut first_paragraph = FirstParagraph::default();
    let mut footnotes = FootnoteNumbers::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    // An HTML block arrives as one event per line; its tags may span lines,
    // so the block is rewritten whole.
    let mut html_block: Option<(String, usize)> = None;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        first_paragraph.observe(&event);
        if let Event::Html(line) = &event {
            html_block.get_or_insert_with(|| (String::new(), range.start)).0.push_str(line);
            continue;
        }
        if let Some((block, offset)) = html_block.take() {
            events.push(Event::Html(rewrite_html(&block, &mut |url| rewrite(url, offset)).into()));
        }
        events.push(match event {
            Event::InlineHtml(tag) => {
                Event::InlineHtml(rewrite_html(&tag, &mut |url| rewrite(url, range.start)).into())
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) if link_type != LinkType::Email => {
                let dest_url = CowStr::from(rewrite(&dest_url, range.start));
                Event::Start(Tag::Link { link_type, dest_url, title, id })
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                let dest_url = CowStr::from(rewrite(&dest_url, range.start));
                Event::Start(Tag::Image { link_type, dest_url, title, id })
            }
            Event::FootnoteReference(name) => {
                let href = rewrite(&format!("#{name}"), range.start);
                Event::InlineHtml(footnotes.reference(&name, &href).into())
            }
            Event::Start(Tag::FootnoteDefinition(name)) => Event::Html(footnotes.definition(&name).into()),
            Event::End(TagEnd::FootnoteDefinition) => Event::Html("</div>\n".into()),
            other => other,
        });
    }
    if let Some((block, offset)) = html_block.take() {
        events.push(Event::Html(rewrite_html(&block, &mut |url| rewrite(url, offset)).into()));
    }
    let mut html_out = String::with_capacity(markdown.len() * 5 / 4);
    html::push_html(&mut html_out, events.into_iter());
    let mut first_paragraph = first_paragraph.text.trim().to_owned();
    let removed_characters = scrub(&mut html_out) + scrub(&mut first_paragraph);
    Rendered { html: html_out, first_paragraph, removed_characters }
}

/// Drops characters XML forbids; returns how many.
fn scrub(text: &mut String) -> usize {
    if text.chars().all(is_xml_char) {
        return 0;
    }
    let before = text.chars().count();
    text.retain(is_xml_char);
    before - text.chars().count()
}

/// Rewrites the URL attributes of raw HTML. Should the HTML be too broken
/// to rewrite safely, it is kept as written.
fn rewrite_html(fragment: &str, rewrite: &mut dyn FnMut(&str) -> String) -> String {
    if !fragment.contains('=') {
        return fragment.to_owned();
    }
    let rewrite = std::cell::RefCell::new(rewrite);
    let handler = lol_html::element!("[href], [src], [poster], [srcset]", |el| {
        let mut rewrite = rewrite.borrow_mut();
        for name in ["href", "src", "poster"] {
            if let Some(value) = el.get_attribute(name) {
                el.set_attribute(name, &rewrite(&value))?;
            }
        }
        if let Some(srcset) = el.get_attribute("srcset") {
            el.set_attribute("srcset", &rewrite_srcset(&srcset, &mut **rewrite))?;
        }
        Ok(())
    });
    let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(handler);
    lol_html::rewrite_str(fragment, settings).unwrap_or_else(|_| fragment.to_owned())
}

/// `a.png 1x, b.png 2x`: each candidate's URL is rewritten, its descriptor kept.
fn rewrite_srcset(srcset: &str, rewrite: &mut dyn FnMut(&str) -> String) -> String {
    srcset
        .split(',')
        .map(|candidate| {
            let candidate = candidate.trim();
            match candidate.split_once(char::is_whitespace) {
                Some((url, descriptor)) => format!("{} {}", rewrite(url), descriptor.trim()),
                None => rewrite(candidate),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Numbers footnotes on first sight of a reference or definition, as
/// pulldown-cmark's own writer does, so labels match. We write these two
/// elements ourselves only to make the reference's href absolute.
#[derive(Default)]
struct FootnoteNumbers(HashMap<String, usize>);

impl FootnoteNumbers {
    fn number(&mut self, name: &str) -> usize {
        let next = self.0.len() + 1;
        *self.0.entry(name.to_owned()).or_insert(next)
    }

    fn reference(&mut self, name: &str, href: &str) -> String {
        let number = self.number(name);
        let mut out = String::from("<sup class=\"footnote-reference\"><a href=\"");
        let _ = escape_href(&mut out, href);
        out.push_str(&format!("\">{number}</a></sup>"));
        out
    }

    fn definition(&mut self, name: &str) -> String {
        let number = self.number(name);
        let mut out = String::from("<div class=\"footnote-definition\" id=\"");
        let _ = escape_html(&mut out, name);
        out.push_str(&format!("\"><sup class=\"footnote-definition-label\">{number}</sup>"));
        out
    }
}

/// Collects the text of the first paragraph that has any (an image-only
/// paragraph is skipped).
#[derive(Default)]
struct FirstParagraph {
    text: String,
    inside: bool,
    done: bool,
    /// Footnote definitions are not part of the reading flow, and an image's
    /// alt text is not part of the prose.
    skipping: usize,
}

impl FirstParagraph {
    fn observe(&mut self, event: &Event<'_>) {
        if self.done {
            return;
        }
        match event {
            Event::Start(Tag::FootnoteDefinition(_) | Tag::Image { .. }) => self.skipping += 1,
            Event::End(TagEnd::FootnoteDefinition | TagEnd::Image) => self.skipping -= 1,
            _ if self.skipping > 0 => {}
            Event::Start(Tag::Paragraph) => self.inside = true,
            Event::End(TagEnd::Paragraph) => {
                self.inside = false;
                self.done = !self.text.trim().is_empty();
            }
            Event::Text(text) | Event::Code(text) if self.inside => self.text.push_str(text),
            Event::SoftBreak | Event::HardBreak if self.inside => self.text.push(' '),
            _ => {}
        }
    }
}

/// Cuts `text` to at most `limit` characters, at a word boundary when there
/// is one in the second half (scripts without spaces are cut mid-run), and
/// marks the cut with an ellipsis.
pub fn truncate_on_word(text: &str, limit: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some((cut, _)) = text.char_indices().nth(limit) else { return text };
    let head = &text[..cut];
    let min_keep = head.char_indices().nth(limit / 2).map_or(0, |(i, _)| i);
    let head = match head.rfind(' ') {
        Some(space) if space >= min_keep => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_with_base(markdown: &str) -> Rendered {
        render(markdown, &mut |dest: &str, _| format!("https://x.test/s/{dest}"))
    }

    #[test]
    fn rewrites_links_images_and_footnotes() {
        let out = render_with_base("[a](b.md) ![i](img/a.png) <mail@x.test> note[^1]\n\n[^1]: text\n");
        assert!(out.html.contains("href=\"https://x.test/s/b.md\""), "{}", out.html);
        assert!(out.html.contains("src=\"https://x.test/s/img/a.png\""), "{}", out.html);
        assert!(out.html.contains("href=\"mailto:mail@x.test\""), "{}", out.html);
        assert!(out.html.contains("<a href=\"https://x.test/s/#1\">1</a>"), "{}", out.html);
        assert!(
            out.html.contains(
                "<div class=\"footnote-definition\" id=\"1\"><sup class=\"footnote-definition-label\">1</sup>"
            ),
            "{}",
            out.html
        );
    }

    #[test]
    fn rewrites_urls_in_raw_html_blocks_and_inline_tags() {
        let out = render_with_base(
            "<audio controls\n  src=\"01.mp3\">\n</audio>\n\nText <img src=\"a.png\" srcset=\"a.png 1x, b.png 2x\"> end.\n",
        );
        assert!(out.html.contains("<audio controls src=\"https://x.test/s/01.mp3\">"), "{}", out.html);
        assert!(out.html.contains("src=\"https://x.test/s/a.png\""), "{}", out.html);
        assert!(
            out.html.contains("srcset=\"https://x.test/s/a.png 1x, https://x.test/s/b.png 2x\""),
            "{}",
            out.html
        );
    }

    #[test]
    fn character_references_to_forbidden_characters_are_dropped() {
        let out = render_with_base("a&#11;b &#x1B;c &#xFFFE;d\n");
        assert_eq!(out.html, "<p>ab c d</p>\n");
        assert_eq!(out.first_paragraph, "ab c d");
        assert_eq!(out.removed_characters, 6);
    }

    #[test]
    fn first_paragraph_skips_images_and_joins_lines() {
        let out = render_with_base("# Title\n\n![only](a.png)\n\nFirst *line*\nand `code`.\n\nSecond.");
        assert_eq!(out.first_paragraph, "First line and code.");
    }

    #[test]
    fn truncates_on_word_boundary() {
        assert_eq!(truncate_on_word("short text", 300), "short text");
        assert_eq!(truncate_on_word("one two three four", 10), "one two…");
        let korean = "가나다 ".repeat(100);
        let cut = truncate_on_word(&korean, 300);
        assert!(cut.chars().count() <= 301 && cut.ends_with("가나다…"), "{cut}");
        let unbroken = "가".repeat(400);
        assert_eq!(truncate_on_word(&unbroken, 300).chars().count(), 301);
    }
}
