//! Who sent a request, from its User-Agent: a hosted reader that reports
//! its subscribers, a service that polls for many but says nothing, a link
//! preview, a bot, or a person's own client. Our tables come before any
//! bot list, which flags NetNewsWire and Inoreader.

use regex::Regex;
use std::sync::LazyLock;

/// Past this a User-Agent is ignored as garbage (real ones are far shorter).
pub const LONGEST: usize = 512;
/// Counts above this are not believed.
const LARGEST_COUNT: u64 = 10_000_000;

/// Hosted readers that put their subscriber count in the User-Agent:
/// (name shown, text that identifies it). Extend here.
const REPORTING: &[(&str, &str)] = &[
    ("Feedly", "Feedly"),
    ("Feedbin", "Feedbin"),
    ("Inoreader", "Inoreader"),
    ("NewsBlur", "NewsBlur Feed Fetcher"),
    ("Overcast", "Overcast"),
    ("The Old Reader", "theoldreader.com"),
    ("BazQux", "BazQux"),
];

/// Services that poll for many listeners or readers and report no count:
/// shown as "not reported", never guessed.
const SILENT: &[(&str, &str)] = &[
    ("Apple Podcasts", "iTMS"),
    ("Spotify", "Spotify"),
    ("Pocket Casts", "Pocket Casts"),
    ("Feedspot", "Feedspot"),
];

/// Fetchers that make a preview of a shared link: never a read.
const PREVIEWS: &[&str] = &[
    "kakaotalk-scrap",
    "Yeti",
    "Daumoa",
    "facebookexternalhit",
    "NewsBlur Page Fetcher",
    "Slackbot",
    "Twitterbot",
];

/// Feed readers that poll for one person, and in-app browsers of
/// messengers and portals: people, whatever a bot list says.
const PEOPLE: &[&str] = &[
    "NetNewsWire",
    "Miniflux",
    "FreshRSS",
    "Tiny Tiny RSS",
    "UniversalFeedParser",
    "Reeder",
    "ReadKit",
    "Thunderbird",
    "AntennaPod",
    "KAKAOTALK",
    "NAVER(inapp",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agent {
    /// A hosted reader and what it says: its feed id and subscriber count.
    Reporting { aggregator: &'static str, feed_id: Option<String>, count: Option<u64> },
    /// A service that polls for many and says nothing of them.
    Silent(&'static str),
    /// A link preview, a crawler, or no User-Agent: not a person.
    Robot,
    /// A person's browser or feed reader.
    Person,
}

/// Classifies a User-Agent header's bytes (`None`: there was none).
pub fn classify(user_agent: Option<&[u8]>) -> Agent {
    let Some(text) = user_agent.filter(|b| !b.is_empty() && b.len() <= LONGEST) else { return Agent::Robot };
    let Ok(text) = std::str::from_utf8(text) else { return Agent::Robot };
    if let Some(&(aggregator, _)) = REPORTING.iter().find(|(_, mark)| text.contains(mark)) {
        return Agent::Reporting { aggregator, feed_id: feed_id(text), count: subscribers(text) };
    }
    if let Some(&(service, _)) = SILENT.iter().find(|(_, mark)| text.contains(mark)) {
        return Agent::Silent(service);
    }
    if PREVIEWS.iter().any(|mark| text.contains(mark)) {
        return Agent::Robot;
    }
    if PEOPLE.iter().any(|mark| text.contains(mark)) {
        return Agent::Person;
    }
    if BOTS.is_bot(text) { Agent::Robot } else { Agent::Person }
}

static BOTS: LazyLock<isbot::Bots> = LazyLock::new(isbot::Bots::default);

/// `462 subscribers`, `1 subscriber`, `1,204 readers`, `subscribers=12`.
static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?:^|[^\w.,-])(\d{1,3}(?:,\d{3})+|\d+)\s*(?:subscribers?|readers?)\b)|(?:\bsubscribers\s*=\s*(\d+))")
        .expect("a valid pattern")
});

/// `feed-id:1697787`, `feed-id=abc`, NewsBlur's `/site/1234/`.
static FEED_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:feed-?id\s*[:=]\s*([A-Za-z0-9_.-]{1,64}))|(?:newsblur\.com/site/(\d{1,20}))")
        .expect("a valid pattern")
});

/// The subscriber count a User-Agent states, if believable.
pub fn subscribers(text: &str) -> Option<u64> {
    let found = COUNT.captures(text)?;
    let digits = found.get(1).or_else(|| found.get(2))?.as_str().replace(',', "");
    digits.parse::<u64>().ok().filter(|&n| n <= LARGEST_COUNT)
}

fn feed_id(text: &str) -> Option<String> {
    let found = FEED_ID.captures(text)?;
    Some(found.get(1).or_else(|| found.get(2))?.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::{Agent, classify, subscribers};

    fn reporting(ua: &str) -> (&'static str, Option<String>, Option<u64>) {
        match classify(Some(ua.as_bytes())) {
            Agent::Reporting { aggregator, feed_id, count } => (aggregator, feed_id, count),
            other => panic!("{ua}: {other:?}"),
        }
    }

    #[test]
    fn hosted_readers_report_their_subscribers() {
        let cases: &[(&str, &str, Option<&str>, Option<u64>)] = &[
            (
                "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )",
                "Feedly",
                None,
                Some(462),
            ),
            ("Feedbin feed-id:1697787 - 102 subscribers", "Feedbin", Some("1697787"), Some(102)),
            (
                "Mozilla/5.0 (compatible; Inoreader/1.0; +http://www.inoreader.com/feed-fetcher; 12 subscribers; )",
                "Inoreader",
                None,
                Some(12),
            ),
            (
                "NewsBlur Feed Fetcher - 34 subscribers - https://www.newsblur.com/site/6204/serial (Mozilla/5.0)",
                "NewsBlur",
                Some("6204"),
                Some(34),
            ),
            (
                "Overcast/1.0 Podcast Sync (1,204 subscribers; feed-id=88; +http://overcast.fm/)",
                "Overcast",
                Some("88"),
                Some(1204),
            ),
            (
                "Mozilla/5.0 (compatible; theoldreader.com; 1 subscriber; feed-id=5f2b)",
                "The Old Reader",
                Some("5f2b"),
                Some(1),
            ),
            (
                "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 0 subscribers)",
                "BazQux",
                None,
                Some(0),
            ),
            (
                "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)",
                "Feedly",
                None,
                None,
            ),
            ("Feedbin feed-id:9 - subscribers=7", "Feedbin", Some("9"), Some(7)),
            ("Inoreader/1.0 (99 readers)", "Inoreader", None, Some(99)),
        ];
        for &(ua, aggregator, feed_id, count) in cases {
            assert_eq!(reporting(ua), (aggregator, feed_id.map(str::to_owned), count), "{ua}");
        }
    }

    #[test]
    fn absurd_or_garbled_counts_are_ignored_and_nothing_panics() {
        assert_eq!(subscribers("Feedly/1.0 (10000001 subscribers)"), None);
        assert_eq!(subscribers("Feedly/1.0 (10000000 subscribers)"), Some(10_000_000));
        assert_eq!(subscribers("Feedly/1.0 (99999999999999999999999 subscribers)"), None);
        assert_eq!(subscribers("Feedly/1.0 (-5 subscribers)"), None);
        assert_eq!(subscribers("Feedly/1.0 (lots of subscribers)"), None);
        let long = format!("Feedly/1.0 ({} 5 subscribers)", "x".repeat(600));
        assert_eq!(classify(Some(long.as_bytes())), Agent::Robot);
        assert_eq!(classify(Some(b"Feedly/1.0 (\xff\xfe 5 subscribers)")), Agent::Robot);
        assert_eq!(classify(Some(b"")), Agent::Robot);
        assert_eq!(classify(None), Agent::Robot);
    }

    #[test]
    fn silent_services_previews_bots_and_people() {
        assert_eq!(classify(Some(b"iTMS")), Agent::Silent("Apple Podcasts"));
        assert_eq!(classify(Some(b"Spotify/1.0")), Agent::Silent("Spotify"));
        assert_eq!(classify(Some(b"Pocket Casts")), Agent::Silent("Pocket Casts"));
        assert_eq!(classify(Some(b"Mozilla/5.0 (compatible; Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher; like FeedFetcher-Google)")), Agent::Silent("Feedspot"));
        for robot in [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/)",
            "Mozilla/5.0 (compatible; Yeti/1.1; +http://naver.me/spd)",
            "Mozilla/5.0 (compatible; Daumoa/4.0)",
            "NewsBlur Page Fetcher - 3 subscribers - https://www.newsblur.com/site/1/x",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "curl/8.5.0",
        ] {
            assert_eq!(classify(Some(robot.as_bytes())), Agent::Robot, "{robot}");
        }
        for person in [
            "NetNewsWire (RSS Reader; https://netnewswire.com/)",
            "Mozilla/5.0 (compatible; Miniflux/2.2.3; +https://miniflux.app)",
            "FreshRSS/1.27.0 (Linux; https://freshrss.org)",
            "Tiny Tiny RSS/23.04 (https://tt-rss.org/)",
            "UniversalFeedParser/6.0.11 +https://github.com/kurtmckee/feedparser/",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.5",
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.3.4)",
        ] {
            assert_eq!(classify(Some(person.as_bytes())), Agent::Person, "{person}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_classify_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700)) {
            let _ = classify(Some(&bytes));
        }

        #[test]
        fn any_stated_count_up_to_ten_million_is_read_back(n in 0u64..=10_000_000) {
            proptest::prop_assert_eq!(subscribers(&format!("Feedly/1.0 ({n} subscribers; )")), Some(n));
        }
    }
}
