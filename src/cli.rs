//! Command line: `episodic build`, `check` and `serve`.
//!
//! The only place besides `main` that reads the clock (`--now` overrides it,
//! for reproducible builds) and the only place that prints diagnostics.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use episodic::audience;
use episodic::clock::Clock;
use episodic::emit::Emitter;
use episodic::http::{self, Limits, Shared};
use episodic::live::{self, Live, Wiring};
use episodic::pipeline::{Changes, Pipeline};
use episodic::publish::{self, PublishError, Publisher};
use episodic::snapshot::Snapshot;
use episodic::state::{self, last_good::LastGood};
use episodic::{Build, Diagnostic, watch};
use jiff::Timestamp;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;
use tracing::info;
use url::Url;

#[derive(Parser)]
#[command(name = "episodic", version, about = "Publish a serial as RSS, Atom and JSON feeds")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every feed from the content folder into the output folder.
    Build {
        #[command(flatten)]
        source: Source,
        /// Where the feeds are written.
        #[arg(long, default_value = "feeds")]
        out: PathBuf,
    },
    /// Check the content folder and report every problem; writes nothing.
    Check {
        #[command(flatten)]
        source: Source,
    },
    /// Build, write the feeds, and serve them over HTTP (a restart answers at once from what feeds/ holds).
    Serve {
        #[command(flatten)]
        source: Source,
        /// Where the feeds are written.
        #[arg(long, default_value = "feeds")]
        out: PathBuf,
        /// The address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// What is kept between runs, not for readers (each episode's last
        /// good version). Default: $STATE_DIRECTORY (set by systemd), else
        /// .episodic/ beside the content folder.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Connections open at once; more wait their turn.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        max_connections: u32,
        /// How edits to the content folder are noticed: file events, polling
        /// (for network filesystems), or not at all (scheduled episodes still
        /// go live on time).
        #[arg(long, value_enum, default_value_t = Watching::Events)]
        watch: Watching,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Watching {
    Events,
    Polling,
    Off,
}

impl Watching {
    fn mode(self) -> Option<watch::Mode> {
        match self {
            Watching::Events => Some(watch::Mode::Events),
            Watching::Polling => Some(watch::Mode::Polling),
            Watching::Off => None,
        }
    }
}

#[derive(clap::Args)]
struct Source {
    /// The folder with site.toml and one folder per series.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// Build as if it were this instant (RFC 3339, e.g. 2026-11-30T10:00:00+09:00),
    /// instead of now: episodes dated later are not published yet.
    #[arg(long, value_parser = parse_now)]
    now: Option<Timestamp>,
    /// Build for this address instead of site.toml's base_url, so that
    /// every link, picture and feed points at it: a preview on your own
    /// machine (http://127.0.0.1:8080/). Best with its own --out.
    #[arg(long, value_parser = parse_base_url)]
    base_url: Option<Url>,
}

impl Source {
    /// A pipeline for the content folder, with `--base-url` and the podcast
    /// GUIDs the last build into `out` published.
    fn pipeline(&self, out: Option<&Path>) -> Pipeline {
        let mut pipeline = Pipeline::new(&self.content);
        if let Some(out) = out {
            pipeline.keep_podcast_guids(publish::podcast_guids(out));
        }
        if let Some(base_url) = &self.base_url {
            pipeline.set_base_url(base_url.clone());
        }
        pipeline
    }

    fn now(&self) -> Timestamp {
        self.clock().now()
    }

    /// `--now` starts the clock there; it runs on from that instant.
    fn clock(&self) -> Clock {
        self.now.map_or_else(Clock::real, Clock::starting_at)
    }
}

fn parse_base_url(text: &str) -> Result<Url, String> {
    episodic::model::site::parse_base_url(text).map(|(url, _)| url)
}

fn parse_now(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>().map_err(|e| {
        format!("expected an RFC 3339 instant with an offset, like 2026-11-30T10:00:00+09:00 ({e})")
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            // lofty's own notes on the files it reads ("using bitrate to
            // estimate duration") are not for writers: what matters is
            // reported as a diagnostic. The access log names readers'
            // addresses: only when asked for.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,lofty=error,episodic::access=off".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Check { source } => {
            let build = source.pipeline(None).update(&Changes::Everything, source.now());
            report(&build)?;
            if build.has_errors() {
                return Ok(ExitCode::FAILURE);
            }
            info!(content = %source.content.display(), "{}", summary(&build, source.now()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Build { source, out } => {
            let now = source.now();
            // Pages and archives are staged as they render: a large site is
            // never whole in memory. Nothing in `out` changes until `write`.
            let emitter = Emitter::new(&out);
            let build = source.pipeline(Some(&out)).update_into(&Changes::Everything, now, &emitter);
            report(&build)?;
            if build.has_errors() {
                info!(out = %out.display(), "nothing was written: fix the errors above and build again");
                return Ok(ExitCode::FAILURE);
            }
            let written = publish::write(&build, emitter)
                .with_context(|| format!("writing the feeds to {}", out.display()))?;
            info!(
                out = %out.display(),
                written = written.written,
                unchanged = written.unchanged,
                removed = written.removed,
                "built {}",
                summary(&build, now)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { source, out, listen, state, max_connections, watch } => {
            let max_connections = within_open_file_limit(max_connections as usize);
            let state = state::directory(state.as_deref(), &source.content);
            let limits = Limits { max_connections, ..Limits::default() };
            serve(&source, &out, &state, listen, limits, watch.mode())
        }
    }
}

fn serve(
    source: &Source,
    out: &Path,
    state: &Path,
    listen: SocketAddr,
    limits: Limits,
    watching: Option<watch::Mode>,
) -> Result<ExitCode> {
    // From systemd or an episodic handing over (LISTEN_FDS), else bound;
    // first, while this is the only thread (taking them edits the
    // environment).
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let listeners =
        http::handoff::listeners(listen, workers).with_context(|| format!("listening on {listen}"))?;
    let clock = source.clock();
    // A restart answers at once from what the last run left in feeds/,
    // and builds meanwhile; a first start has nothing to serve before.
    let resumed = publish::resume(out, clock.now());
    let resuming = resumed.is_some();
    let wiring = Wiring::new(resumed.unwrap_or_else(Snapshot::empty));
    let snapshot = wiring.snapshot();
    let shared = Arc::new(Shared {
        snapshot: wiring.snapshot(),
        admin_token: std::env::var(http::admin::TOKEN_VARIABLE).ok().filter(|t| !t.is_empty()),
        clock,
        report_damage: Box::new(wiring.damage_report()),
        stopping: std::sync::atomic::AtomicBool::new(false),
        recorder: audience::Recorder::start(state, wiring.snapshot(), clock)
            .inspect_err(|e| tracing::warn!(%e, "cannot start counting the audience; serving goes on"))
            .ok(),
        limiter: http::limit::Limiter::default(),
    });
    let (pipeline, out_dir, state) = (source.pipeline(Some(out)), out.to_path_buf(), state.to_path_buf());
    let start = move || start_live(pipeline, &out_dir, &state, clock, wiring, watching);
    let (built, first_build) = std::sync::mpsc::channel();
    let mut live = None;
    if resuming {
        std::thread::Builder::new()
            .name("episodic-first-build".into())
            .spawn(move || built.send(start()))
            .context("starting the first build")?;
    } else {
        live = Some(start()?);
    }
    let address = listeners
        .first()
        .context("no listening socket")?
        .local_addr()
        .context("reading the listening address")?;
    if resuming {
        info!(workers, "serving what {} holds at http://{address}/ while building", out.display());
    }
    let ready = || {
        if resuming {
            let started = first_build.recv().map_err(std::io::Error::other)?;
            live = Some(started.map_err(|e| std::io::Error::other(format!("{e:#}")))?);
        }
        let base_path = snapshot.load().base_path.clone();
        info!(workers, "serving http://{address}{base_path}");
        // The address on stdout, alone, once the content's build is served:
        // for scripts and tests to read.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{address}{base_path}")?;
        stdout.flush()?;
        http::handoff::notify_ready();
        Ok(())
    };
    let served = http::run(listeners, workers, shared.clone(), limits, ready).context("serving");
    if let Some(recorder) = &shared.recorder {
        recorder.flush(std::time::Duration::from_secs(2));
    }
    if let Some(live) = live {
        live.stop();
    }
    served?;
    Ok(ExitCode::SUCCESS)
}

/// The first build, published and swapped in; then the live driver, running.
fn start_live(
    mut pipeline: Pipeline,
    out: &Path,
    state: &Path,
    clock: Clock,
    wiring: Wiring,
    watching: Option<watch::Mode>,
) -> Result<live::Handle> {
    // Opened here, off the serving path: a restart answers meanwhile.
    let last_good = LastGood::open(state).map(Arc::new);
    if let Ok(store) = &last_good {
        pipeline.recall_from(store.clone());
    }
    let now = clock.now();
    let build = pipeline.update(&Changes::Everything, now);
    report(&build)?;
    let (mut publisher, started) = match Publisher::start(out, &build, SystemTime::now()) {
        Ok(started) => started,
        Err(PublishError::Config) => {
            bail!(
                "cannot serve until the errors in site.toml above are fixed (and no earlier build left feeds to serve meanwhile)"
            )
        }
        Err(error) => return Err(error).with_context(|| format!("reading {}", out.display())),
    };
    // A folder that cannot be written (a full disk) does not stop the
    // server: it serves from memory and tries again (see live::writing).
    let written = publisher.write().map_err(|e| e.to_string());
    if publisher.carried() > 0 {
        tracing::warn!(
            files = publisher.carried(),
            "serving what the last good build left in {} where the content has errors (listed above and at /_episodic/status)",
            out.display()
        );
    } else if build.has_errors() {
        tracing::warn!(
            "episodes whose files have errors are served as last published, or left out if never published (listed above and at /_episodic/status)"
        );
    }
    info!(out = %out.display(), "built {}", summary(&build, now));
    let mut live = Live::new(wiring, pipeline, publisher, &build, &started, clock, watching);
    drop(build);
    if let Err(why) = written {
        live.write_failed(why);
    }
    live.keep_last_good_in(last_good);
    live.keep_last_good();
    live.spawn().context("starting the rebuild thread")
}

/// Raises the soft limit on open files to the hard one, and keeps the
/// connection cap under it: at the usual soft limit of 1,024, accept would
/// fail with EMFILE long before a cap of 10,000 could take effect.
fn within_open_file_limit(wanted: usize) -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return wanted };
    let soft = if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() { hard } else { soft };
    // Room for listeners, the content files a build opens, logs.
    let usable = usize::try_from(soft).unwrap_or(usize::MAX).saturating_sub(128).max(1);
    if wanted > usable {
        tracing::warn!(
            wanted,
            usable,
            "fewer files may be open than connections were asked for; capping connections"
        );
    }
    wanted.min(usable)
}

/// Prints every diagnostic, then a count, to stderr.
fn report(build: &Build) -> Result<()> {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in &build.diagnostics {
        writeln!(stderr, "{}", display_path(diagnostic))?;
    }
    let errors = build.error_count();
    if errors > 0 {
        writeln!(stderr, "{errors} error(s) found")?;
    }
    Ok(())
}

/// Diagnostics show paths as given (`content/s/01.md`), without `./`.
fn display_path(diagnostic: &Diagnostic) -> String {
    let mut diagnostic = diagnostic.clone();
    if let Ok(stripped) = diagnostic.path.strip_prefix(Path::new(".")) {
        diagnostic.path = stripped.to_path_buf();
    }
    diagnostic.to_string()
}

fn summary(build: &Build, now: Timestamp) -> String {
    let Some(catalog) = &build.catalog else { return String::from("nothing") };
    let (mut published, mut scheduled, mut drafts) = (0, 0, 0);
    for episode in catalog.series.iter().flat_map(|s| &s.episodes) {
        match (episode.meta.draft, episode.is_published(now)) {
            (true, _) => drafts += 1,
            (false, true) => published += 1,
            (false, false) => scheduled += 1,
        }
    }
    format!(
        "{} series, {published} published episode(s), {scheduled} scheduled, {drafts} draft(s), {} file(s)",
        catalog.series.len(),
        build.outputs.len()
    )
}
