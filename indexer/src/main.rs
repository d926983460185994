//! `indexer`: wiki → snapshot. A thin shell over the `exchange` library; see ARCHITECTURE.md.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use exchange::export::{Exporter, Format};
use exchange::parse::{PageContext, ProfileTemplate, parse_page};
use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use exchange::{dump, import, synth, wikitext};
use tracing::info;

mod crawl;
mod report;
mod wiki;
mod wiki_pages;

/// Harvests Capacity Exchange profiles from the wiki into snapshots the web tool serves.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Harvest profiles from a live wiki and publish a snapshot.
    ///
    /// Incremental when DIR already holds a snapshot: only pages changed since the last
    /// run are read again. Credentials come from CAPX_WIKI_USER and CAPX_WIKI_PASSWORD (a
    /// bot password) or CAPX_WIKI_OAUTH2_TOKEN, and are used only where they pay off.
    Crawl {
        /// The wiki's api.php URL, e.g. https://meta.wikimedia.org/w/api.php
        #[arg(long, value_name = "URL")]
        api: String,
        /// The data directory the web tool reads.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Read every page again, even when a previous snapshot exists.
        #[arg(long)]
        full: bool,
        /// Also write a JSON summary of the run to this file.
        #[arg(long, value_name = "FILE")]
        summary_json: Option<PathBuf>,
        /// Longest a single HTTP request may take, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        timeout: u64,
        /// Attempts per request before the run gives up.
        #[arg(long, value_name = "N", default_value_t = 6)]
        max_attempts: u32,
        /// First back-off delay after a failed request, in milliseconds (doubles each time).
        #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
        backoff_ms: u64,
        /// How far before the previous run's start an incremental crawl looks, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = crawl::OVERLAP.as_secs(), hide = true)]
        overlap_secs: u64,
    },
    /// Build and publish a snapshot from a MediaWiki XML export (.xml, .xml.gz or .xml.bz2).
    ///
    /// Applies the same rules as a crawl: User pages only, the newest revision saved by the
    /// page's owner, and only pages that call the profile template.
    Import {
        /// The export file.
        #[arg(long, value_name = "FILE")]
        dump: PathBuf,
        /// The data directory the web tool reads.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Also write a JSON summary of the run to this file.
        #[arg(long, value_name = "FILE")]
        summary_json: Option<PathBuf>,
    },
    /// Print every profile of the current snapshot.
    Export {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// jsonl: one JSON object per line; csv: one row per profile.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
    /// Read wikitext (a file, or standard input) and print the profile it holds as JSON,
    /// with the warnings a profile owner would see.
    Parse {
        /// Print every template call as MediaWiki's preprocessor sees it instead.
        #[arg(long)]
        templates: bool,
        /// The page the text comes from, which names the profile's owner.
        #[arg(long, value_name = "TITLE", default_value = "User:Example")]
        page: String,
        /// Other names (redirects) of the profile template.
        #[arg(long = "alias", value_name = "NAME")]
        aliases: Vec<String>,
        /// The wikitext file; standard input when absent or "-".
        file: Option<PathBuf>,
    },
    /// Write the statistics report of the current snapshot as wikitext, or save it on
    /// the wiki as a bot.
    ///
    /// Without --post the report is printed (with --page, exactly what would be posted
    /// there, changes since the last report included). With --post it is saved on --page
    /// as a bot edit, logged in with CAPX_WIKI_USER and CAPX_WIKI_PASSWORD (a bot password,
    /// user name Name@app) or CAPX_WIKI_OAUTH2_TOKEN. No edit is made when the page already
    /// shows the report. Refused: an empty snapshot, one older than --max-age, a page with
    /// {{nobots}} (or {{bots}} excluding the bot), and a report less than half the size of
    /// the page; --force overrides the age and size checks. The numbers are remembered in
    /// DIR/last-report.json after a successful post, for the next report's changes.
    Report {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The wiki's api.php URL, e.g. https://meta.wikimedia.org/w/api.php
        #[arg(long, value_name = "URL")]
        api: Option<String>,
        /// The report page, e.g. "Capacity Exchange/Report".
        #[arg(long, value_name = "TITLE")]
        page: Option<String>,
        /// Save the report on the wiki instead of printing it.
        #[arg(long, requires_all = ["api", "page"])]
        post: bool,
        /// Post even when the snapshot is older than --max-age or the report would shrink
        /// the page by more than half.
        #[arg(long)]
        force: bool,
        /// Oldest snapshot to post, counted from the last crawl that found it current:
        /// a number and s, m, h, d or w.
        #[arg(long, value_name = "AGE", default_value = "48h", value_parser = report::parse_age)]
        max_age: Duration,
        /// The edit summary (default: the snapshot and its number of profiles).
        #[arg(long, value_name = "TEXT")]
        summary: Option<String>,
        /// Also write the numbers as Commons tabular data (a Data:….tab page's JSON, CC0).
        #[arg(long, value_name = "FILE")]
        tab: Option<PathBuf>,
        /// With --post, also save the tabular data on this page (needs a wiki with the
        /// JsonConfig extension, such as Commons: Data:….tab).
        #[arg(long, value_name = "TITLE", requires = "post")]
        tab_page: Option<String>,
        /// The api.php URL of the wiki for --tab-page, when it is not --api's.
        #[arg(long, value_name = "URL", requires = "tab_page")]
        tab_api: Option<String>,
        /// The web tool's address, for the links in the report.
        #[arg(long, value_name = "URL", default_value = exchange::report::DEFAULT_WEBTOOL_URL)]
        webtool_url: String,
        /// Longest a single HTTP request may take, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        timeout: u64,
    },
    /// Save the pages the tool needs on the wiki: the profile template, its module,
    /// headings, styles, documentation (with TemplateData) and preloads, from wiki/.
    ///
    /// Only pages whose text differs are edited, each based on the revision just read, so an
    /// edit made on the wiki in between is never overwritten (MediaWiki merges it when it
    /// touches other lines, else the edit fails as a conflict). Prints, per page,
    /// whether it was created, updated or unchanged. Logs in with CAPX_WIKI_USER and
    /// CAPX_WIKI_PASSWORD (a bot password, user name Name@app, with the grants to edit and
    /// create pages) or CAPX_WIKI_OAUTH2_TOKEN; --dry-run needs no login.
    InstallPages {
        /// The wiki's api.php URL, e.g. https://meta.wikimedia.org/w/api.php
        #[arg(long, value_name = "URL")]
        api: String,
        /// Only say which pages would be created or updated; edit nothing.
        #[arg(long)]
        dry_run: bool,
        /// The edit summary (default: the file in wiki/ and the indexer's version).
        #[arg(long, value_name = "TEXT")]
        summary: Option<String>,
        /// Mark the edits as bot edits, and refuse to edit unless the account is a bot.
        #[arg(long)]
        bot: bool,
        /// Longest a single HTTP request may take, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        timeout: u64,
    },
    /// Write a realistic synthetic XML export, for demos and benchmarks.
    Synth {
        /// How many people to generate.
        #[arg(long, value_name = "N")]
        profiles: usize,
        /// Output file; compressed when it ends in .gz or .bz2; "-" for standard output.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The same seed always gives the same export.
        #[arg(long, default_value_t = synth::DEFAULT_SEED)]
        seed: u64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    Jsonl,
    Csv,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("indexer: error: {}", describe(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once: the library's errors already include their
/// cause in their own message (for the web tool's logs), so `{:#}` would repeat it.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// A reader that stopped reading our output (`indexer export | head`) is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause.to_string().contains("Broken pipe")
    })
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Crawl {
            api,
            data,
            full,
            summary_json,
            timeout,
            max_attempts,
            backoff_ms,
            overlap_secs,
        } => {
            let options = crawl::CrawlOptions {
                overlap: Duration::from_secs(overlap_secs),
                api,
                data: DataDir::new(data),
                full,
                credentials: wiki::Credentials::from_env(),
                politeness: wiki::Politeness {
                    timeout: Duration::from_secs(timeout),
                    max_attempts: max_attempts.max(1),
                    backoff: Duration::from_millis(backoff_ms),
                    ..wiki::Politeness::default()
                },
            };
            let runtime = runtime()?;
            let summary = runtime
                .block_on(crawl::crawl(&options))
                .context("crawling; nothing was published")?;
            info!(
                mode = summary.mode,
                requests = summary.requests,
                profiles = summary.profiles,
                "crawl finished"
            );
            if let Some(file) = summary_json {
                write_json(&file, &summary)?;
            }
            Ok(())
        }
        Command::Import {
            dump: path,
            data,
            summary_json,
        } => {
            let data = DataDir::new(data);
            let open = || dump::open(&path);
            let mut last = 0u64;
            let summary = import::import(&open, &data, &path.display().to_string(), &mut |n| {
                if n >= last + 10_000 {
                    last = n;
                    info!(pages = n, "reading the export");
                }
            })
            .with_context(|| format!("importing {}; nothing was published", path.display()))?;
            info!(
                generation = %summary.generation,
                profiles = summary.stats.profiles,
                pages = summary.pages_read,
                warnings = summary.stats.warnings,
                "published"
            );
            if let Some(file) = summary_json {
                write_json(&file, &summary)?;
            }
            Ok(())
        }
        Command::Export { data, format } => {
            let data = DataDir::new(data);
            let snapshot = data
                .open_current()
                .context("opening the current snapshot")?;
            let format = match format {
                ExportFormat::Jsonl => Format::Jsonl,
                ExportFormat::Csv => Format::Csv,
            };
            let stdout = io::stdout().lock();
            let mut exporter = Exporter::new(BufWriter::new(stdout), format)?;
            snapshot.for_each_profile(|p| exporter.write(&p))?;
            exporter.finish()?;
            Ok(())
        }
        Command::Parse {
            templates,
            page,
            aliases,
            file,
        } => {
            let text = read_input(file.as_deref())?;
            let mut out = io::stdout().lock();
            if templates {
                serde_json::to_writer_pretty(&mut out, &wikitext::template_calls(&text))?;
            } else {
                let template = ProfileTemplate::with_aliases(&aliases);
                let context = PageContext {
                    title: page,
                    ..PageContext::default()
                };
                let parsed = parse_page(&text, &context, &template, Taxonomy::bundled());
                let json = serde_json::json!({
                    "profile": parsed.profile,
                    "warnings": parsed.warnings,
                });
                serde_json::to_writer_pretty(&mut out, &json)?;
            }
            writeln!(out)?;
            Ok(())
        }
        Command::Report {
            data,
            api,
            page,
            post,
            force,
            max_age,
            summary,
            tab,
            tab_page,
            tab_api,
            webtool_url,
            timeout,
        } => {
            if !exchange::report::is_usable_url(&webtool_url) {
                bail!("--webtool-url {webtool_url:?} is not an http(s) address usable in a link");
            }
            let options = report::ReportOptions {
                data: DataDir::new(data),
                api,
                page,
                post,
                force,
                max_age,
                summary,
                tab,
                tab_page,
                tab_api,
                webtool_url,
                credentials: wiki::Credentials::from_env(),
                politeness: wiki::Politeness {
                    timeout: Duration::from_secs(timeout),
                    ..wiki::Politeness::default()
                },
            };
            let runtime = runtime()?;
            runtime.block_on(report::run(&options))
        }
        Command::InstallPages {
            api,
            dry_run,
            summary,
            bot,
            timeout,
        } => {
            let options = wiki_pages::InstallOptions {
                api,
                dry_run,
                summary,
                bot,
                credentials: wiki::Credentials::from_env(),
                politeness: wiki::Politeness {
                    timeout: Duration::from_secs(timeout),
                    ..wiki::Politeness::default()
                },
            };
            let runtime = runtime()?;
            runtime
                .block_on(wiki_pages::install(&options))
                .context("installing the pages of wiki/")?;
            Ok(())
        }
        Command::Synth {
            profiles,
            out,
            seed,
        } => {
            let stats = write_synth(&out, profiles, seed)?;
            info!(
                pages = stats.pages,
                revisions = stats.revisions,
                expected_profiles = stats.expected_profiles,
                "wrote {}",
                out.display()
            );
            Ok(())
        }
    }
}

fn write_synth(out: &Path, profiles: usize, seed: u64) -> Result<synth::SynthStats> {
    let taxonomy = Taxonomy::bundled();
    if out == Path::new("-") {
        return Ok(synth::write_export(
            BufWriter::new(io::stdout().lock()),
            profiles,
            seed,
            taxonomy,
        )?);
    }
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let file = BufWriter::new(file);
    let name = out.to_string_lossy();
    let stats = if name.ends_with(".gz") {
        let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let stats = synth::write_export(&mut encoder, profiles, seed, taxonomy)?;
        encoder.finish()?.flush()?;
        stats
    } else if name.ends_with(".bz2") {
        let mut encoder = bzip2::write::BzEncoder::new(file, bzip2::Compression::default());
        let stats = synth::write_export(&mut encoder, profiles, seed, taxonomy)?;
        encoder.finish()?.flush()?;
        stats
    } else {
        synth::write_export(file, profiles, seed, taxonomy)?
    };
    Ok(stats)
}

fn read_input(file: Option<&Path>) -> Result<String> {
    let mut bytes = Vec::new();
    match file {
        None => io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?,
        Some(path) if path == Path::new("-") => io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?,
        Some(path) => File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("reading {}", path.display()))?,
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let position = e.utf8_error().valid_up_to();
            bail!("the input is not valid UTF-8 (first bad byte at offset {position})")
        }
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    serde_json::to_writer_pretty(BufWriter::new(file), value)
        .with_context(|| format!("writing {}", path.display()))
}

/// The wiki commands talk to one wiki one request at a time: one thread is all they need.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_says_each_cause_once() {
        let store = exchange::store::StoreError::Io {
            action: "writing",
            path: PathBuf::from("/data/current.tmp"),
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        let error = anyhow::Error::new(store).context("crawling; nothing was published");
        let text = describe(&error);
        assert_eq!(
            text.matches(&io::Error::from(io::ErrorKind::StorageFull).to_string())
                .count(),
            1,
            "{text}"
        );
        assert!(
            text.starts_with("crawling; nothing was published: writing /data/current.tmp: "),
            "{text}"
        );
    }
}
