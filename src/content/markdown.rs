//! Markdown → HTML (CommonMark with tables, footnotes and strikethrough),
//! with every link, image and footnote URL passed through a caller-supplied
//! rewrite so that the feed carries only absolute URLs: feed readers show
//! content away from its page, where a relative URL points nowhere.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};
use pulldown_cmark_escape::{escape_href, escape_html};
use std::collections::HashMap;

/// An episode body as HTML plus the plain text of its first paragraph (the
/// default summary).
#[derive(Debug, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub first_paragraph: String,
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
    let events = Parser::new_ext(markdown, options()).into_offset_iter().map(|(event, range)| {
        first_paragraph.observe(&event);
        match event {
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
        }
    });
    let mut html_out = String::with_capacity(markdown.len() * 5 / 4);
    html::push_html(&mut html_out, events);
    Rendered { html: html_out, first_paragraph: first_paragraph.text.trim().to_owned() }
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
