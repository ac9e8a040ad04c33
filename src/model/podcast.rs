//! series.toml's `[podcast]` table: what makes a series a podcast that
//! Apple Podcasts and the apps that follow its tags accept (type,
//! categories, explicitness, owner, artwork).

use super::fields::{FieldReader, nearest};
use super::{Author, Cover};
use crate::content::front_matter::Value;

/// `itunes:type`: a serial is listened to from the first episode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodcastType {
    #[default]
    Serial,
    Episodic,
}

impl PodcastType {
    pub fn as_str(self) -> &'static str {
        match self {
            PodcastType::Serial => "serial",
            PodcastType::Episodic => "episodic",
        }
    }
}

/// One of Apple's categories, with one of its subcategories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub name: &'static str,
    pub sub: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Podcast {
    pub kind: PodcastType,
    pub categories: Vec<Category>,
    pub explicit: bool,
    /// Who Apple writes to about the show (`itunes:owner`).
    pub owner: Option<Author>,
    /// The square artwork; the series' cover when not set.
    pub image: Option<Cover>,
    /// `podcast:guid`: the show's identity across hosts and addresses.
    pub guid: String,
    /// `podcast:locked`: other platforms may not import the show.
    pub locked: bool,
    /// `podcast:funding`: where listeners support the show.
    pub funding: Option<Funding>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Funding {
    pub url: String,
    pub text: String,
}

pub const KEYS: &[&str] = &["type", "categories", "explicit", "owner", "image", "guid", "locked", "funding"];

/// The Podcast Index's namespace for show GUIDs (podcast namespace, `guid`).
const GUID_NAMESPACE: uuid::Uuid = uuid::uuid!("ead4c236-bf58-58c6-a2c6-a6b28d128cb6");

/// The Podcast Index rule for a show's GUID: UUIDv5 of its feed URL
/// without the scheme and trailing slashes (`podnews.net/rss` →
/// `9b024349-ccf0-5f69-a609-6b82873eab3c`).
pub fn guid_of_feed(feed_url: &str) -> String {
    let bare = feed_url.split_once("://").map_or(feed_url, |(_, rest)| rest).trim_end_matches('/');
    uuid::Uuid::new_v5(&GUID_NAMESPACE, bare.as_bytes()).to_string()
}

/// Apple Podcasts' categories and their subcategories
/// (podcasters.apple.com/support/1691-apple-podcasts-categories).
const CATEGORIES: &[(&str, &[&str])] = &[
    ("Arts", &["Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"]),
    ("Business", &["Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"]),
    ("Comedy", &["Comedy Interviews", "Improv", "Stand-Up"]),
    ("Education", &["Courses", "How To", "Language Learning", "Self-Improvement"]),
    ("Fiction", &["Comedy Fiction", "Drama", "Science Fiction"]),
    ("Government", &[]),
    ("History", &[]),
    (
        "Health & Fitness",
        &["Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"],
    ),
    ("Kids & Family", &["Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"]),
    (
        "Leisure",
        &[
            "Animation & Manga",
            "Automotive",
            "Aviation",
            "Crafts",
            "Games",
            "Hobbies",
            "Home & Garden",
            "Video Games",
        ],
    ),
    ("Music", &["Music Commentary", "Music History", "Music Interviews"]),
    (
        "News",
        &[
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        ],
    ),
    (
        "Religion & Spirituality",
        &["Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"],
    ),
    (
        "Science",
        &[
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        ],
    ),
    (
        "Society & Culture",
        &["Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"],
    ),
    (
        "Sports",
        &[
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        ],
    ),
    ("Technology", &[]),
    ("True Crime", &[]),
    ("TV & Film", &["After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"]),
];

/// Reads the `[podcast]` table's keys from `reader` (a reader of that
/// table); `image` comes resolved from the caller. Without a `guid`, the
/// one `published` before is kept (the show's identity survives a move),
/// or else `feed_url` (the series' RSS feed) gives it.
pub fn read(
    reader: &mut FieldReader<'_>,
    image: Option<Cover>,
    feed_url: &str,
    published: Option<&str>,
) -> Option<Podcast> {
    reader.reject_unknown(KEYS);
    let kind = match reader.text("type").as_deref().map(str::trim) {
        None | Some("serial") => PodcastType::Serial,
        Some("episodic") => PodcastType::Episodic,
        Some(other) => {
            reader.error("type", format!("`type` is `{other}`; it is \"serial\" or \"episodic\""));
            PodcastType::Serial
        }
    };
    let names = reader.text_list("categories");
    let categories = categories(reader, &names);
    if categories.is_empty() && reader.line("categories").is_none() {
        reader.warn("podcast", "`[podcast]` has no `categories`; Apple Podcasts needs one, like categories = [\"Fiction\", \"Drama\"]");
    }
    let explicit = reader.bool("explicit");
    if explicit.is_none() && reader.line("explicit").is_none() {
        reader.error(
            "podcast",
            "`[podcast]` needs `explicit = true` or `explicit = false`, which Apple Podcasts requires",
        );
    }
    let owner = reader.author("owner");
    let guid = match reader.text("guid").map(|g| g.trim().to_owned()) {
        Some(guid) if uuid::Uuid::parse_str(&guid).is_ok() => guid.to_ascii_lowercase(),
        Some(guid) => {
            reader.error(
                "guid",
                format!("`guid` `{guid}` is not a UUID (like 9b024349-ccf0-5f69-a609-6b82873eab3c)"),
            );
            guid_of_feed(feed_url)
        }
        None => default_guid(reader, feed_url, published),
    };
    let locked = reader.bool("locked").unwrap_or(false);
    let funding = funding(reader);
    Some(Podcast { kind, categories, explicit: explicit?, owner, image, guid, locked, funding })
}

/// The GUID published before, if any (with a warning when the feed has
/// moved since, as only the build's manifest remembers it), else the feed's.
fn default_guid(reader: &mut FieldReader<'_>, feed_url: &str, published: Option<&str>) -> String {
    let of_feed = guid_of_feed(feed_url);
    match published {
        Some(published) if published != of_feed => {
            reader.warn(
                "podcast",
                format!(
                    "the feed moved to {feed_url}; podcast apps know the show by the podcast:guid it was published with, so it stays {published}. Add `guid = \"{published}\"` under [podcast] so a build into an empty folder keeps it too"
                ),
            );
            published.to_owned()
        }
        _ => of_feed,
    }
}

/// `funding = { url = "…", text = "…" }`.
fn funding(reader: &mut FieldReader<'_>) -> Option<Funding> {
    let table = match reader.fields.remove("funding")? {
        Value::Table(table) => table,
        other => {
            let kind = other.kind();
            reader.error("funding", format!("`funding` should be a table with url and text, not {kind}"));
            return None;
        }
    };
    let text = |key: &str| match table.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    };
    match (text("url"), text("text")) {
        (Some(url), Some(text)) if url.starts_with("https://") || url.starts_with("http://") => {
            Some(Funding { url, text })
        }
        _ => {
            reader.error("funding", "`funding` needs an absolute `url` and a `text`, like { url = \"https://…\", text = \"Support the show\" }");
            None
        }
    }
}

/// Apple's categories from names in order, a subcategory right after its
/// parent: `["Fiction", "Drama"]` is Fiction › Drama.
fn categories(reader: &mut FieldReader<'_>, names: &[String]) -> Vec<Category> {
    let mut categories: Vec<Category> = Vec::new();
    for name in names.iter().map(|n| n.trim()) {
        if let Some(&(top, _)) = CATEGORIES.iter().find(|(top, _)| *top == name) {
            categories.push(Category { name: top, sub: None });
            continue;
        }
        let parent =
            CATEGORIES.iter().find_map(|(top, subs)| Some((*top, *subs.iter().find(|s| **s == name)?)));
        match (parent, categories.last_mut()) {
            (Some((top, sub)), Some(last)) if last.name == top => {
                if last.sub.is_none() {
                    last.sub = Some(sub);
                } else {
                    categories.push(Category { name: top, sub: Some(sub) });
                }
            }
            (Some((top, _)), _) => reader.error(
                "categories",
                format!("`{name}` is a subcategory of \"{top}\": write \"{top}\" right before it"),
            ),
            (None, _) => {
                let all: Vec<&str> = CATEGORIES
                    .iter()
                    .flat_map(|(top, subs)| std::iter::once(*top).chain(subs.iter().copied()))
                    .collect();
                let hint =
                    nearest(name, &all).map(|n| format!("; did you mean \"{n}\"?")).unwrap_or_default();
                reader
                    .error("categories", format!("`{name}` is not one of Apple Podcasts' categories{hint}"));
            }
        }
    }
    categories
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_podcast_index_example_guid() {
        assert_eq!(super::guid_of_feed("https://podnews.net/rss"), "9b024349-ccf0-5f69-a609-6b82873eab3c");
        assert_eq!(super::guid_of_feed("podnews.net/rss/"), "9b024349-ccf0-5f69-a609-6b82873eab3c");
    }
}
