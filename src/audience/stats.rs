//! `/_episodic/stats`: the audience for the author, as HTML with inline SVG
//! charts and tables; no script. Drawn through minijinja, which escapes
//! every name a client could have sent us.

use super::report::{Audience, History};
use minijinja::{Environment, Value, context};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many days the charts show.
pub const DAYS: i32 = 30;
const PAGE: &str = include_str!("stats.html");
const CHART: &str = include_str!("chart.svg");
const COLORS: [&str; 8] =
    ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];
const WIDTH: u32 = 720;
const HEIGHT: u32 = 200;
/// The plot's edges: room for the axis labels and the legend.
const LEFT: u32 = 40;
const TOP: u32 = 18;
const BOTTOM: u32 = 18;

#[derive(Serialize)]
struct Bar {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    color: &'static str,
    title: String,
}

/// The page, for `days` (oldest first, YYYY-MM-DD).
pub fn page(audience: &Audience, history: &History, days: &[String]) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("stats.html", PAGE)?;
    env.add_template("chart.svg", CHART)?;
    let (subscribers, reads) = history;
    let series: Vec<Value> = audience
        .series
        .iter()
        .map(|(name, s)| {
            let mut stacks: BTreeMap<(&str, &str), u64> = BTreeMap::new();
            for (day, _, source, count) in subscribers.iter().filter(|(_, series, ..)| series == name) {
                stacks.insert((day.as_str(), source.as_str()), *count);
            }
            let chart = chart(&env, &format!("{name}: subscribers per day by source"), days, &stacks);
            context! {
                name, subscribers => s.subscribers, direct => s.direct, reported => s.reported,
                silent => s.silent, feeds => s.feeds, chart => Value::from_safe_string(chart.unwrap_or_default()),
            }
        })
        .collect();
    let mut per_day: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for (day, episode, count) in reads {
        let series = episode.rsplit_once('/').map_or(episode.as_str(), |(series, _)| series);
        *per_day.entry((day.as_str(), series)).or_default() += count;
    }
    let reads_chart = chart(&env, "reads per day by series", days, &per_day)?;
    let episodes: Vec<Value> = audience
        .episodes
        .iter()
        .map(|(name, r)| context! { name, reads => r.reads, reads_7d => r.reads_7d })
        .collect();
    env.get_template("stats.html")?.render(context! {
        series, episodes, recorder => &audience.recorder, reads_chart => Value::from_safe_string(reads_chart),
    })
}

/// Stacked bars, one per day, of `stacks` ((day, source) → count).
fn chart(
    env: &Environment<'_>,
    label: &str,
    days: &[String],
    stacks: &BTreeMap<(&str, &str), u64>,
) -> Result<String, minijinja::Error> {
    let mut sources: Vec<&str> = stacks.keys().map(|(_, source)| *source).collect();
    sources.sort_unstable();
    sources.dedup();
    let totals = days.iter().map(|day| {
        sources.iter().map(|s| stacks.get(&(day.as_str(), *s)).copied().unwrap_or(0)).sum::<u64>()
    });
    let top = totals.max().unwrap_or(0).max(1);
    let plot = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / u32::try_from(days.len().max(1)).unwrap_or(1);
    let mut bars = Vec::new();
    let mut ticks = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * u32::try_from(i).unwrap_or(0);
        let mut stacked = 0u64;
        for (k, source) in sources.iter().enumerate() {
            let count = stacks.get(&(day.as_str(), *source)).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let scale = |n: u64| u32::try_from(n.saturating_mul(u64::from(plot)) / top).unwrap_or(plot);
            let (low, high) = (scale(stacked), scale(stacked + count));
            stacked += count;
            bars.push(Bar {
                x: x + 1,
                y: TOP + plot - high,
                width: slot.saturating_sub(2).max(1),
                height: (high - low).max(1),
                color: COLORS[k % COLORS.len()],
                title: format!("{day} {source}: {count}"),
            });
        }
        if i % 7 == 0 || i + 1 == days.len() {
            ticks.push(context! { x => x + slot / 2, label => day.get(5..).unwrap_or(day) });
        }
    }
    let legend: Vec<Value> = sources
        .iter()
        .enumerate()
        .map(|(k, name)| context! { x => LEFT + 10 + 110 * u32::try_from(k).unwrap_or(0), name, color => COLORS[k % COLORS.len()] })
        .collect();
    env.get_template("chart.svg")?.render(context! {
        width => WIDTH, height => HEIGHT, base => TOP + plot, top, label, bars, ticks, legend,
    })
}
