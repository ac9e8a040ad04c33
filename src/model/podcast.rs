//! series.toml's `[podcast]` table: what makes a series a podcast that
//! Apple Podcasts and the apps that follow its tags accept (type,
//! categories, explicitness, owner, artwork).

use super::Author;
use super::fields::{FieldReader, nearest};
use super::series::Cover;

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
}

pub const KEYS: &[&str] = &["type", "categories", "explicit", "owner", "image"];

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
/// table); `image` comes resolved from the caller.
pub fn read(reader: &mut FieldReader<'_>, image: Option<Cover>) -> Option<Podcast> {
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
    Some(Podcast { kind, categories, explicit: explicit?, owner, image })
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
