//! `webtool`: serves the Capacity Exchange from a published snapshot.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use exchange::store::DataDir;
use tracing::info;
use webtool::server::Limits;
use webtool::state::{AppState, watch};

/// Serves Capacity Exchange search, matching, statistics and the JSON API from the
/// snapshot the indexer publishes.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// The data directory the indexer publishes to.
    #[arg(long, value_name = "DIR", required_unless_present = "demo")]
    data: Option<PathBuf>,
    /// Serve the bundled sample data instead: nothing to set up.
    #[arg(long, conflicts_with = "data")]
    demo: bool,
    /// The address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    bind: IpAddr,
    /// The port; defaults to the PORT environment variable, else 8000.
    #[arg(long, env = "PORT", default_value_t = 8000)]
    port: u16,
    /// Searches each snapshot keeps answered for when they are asked again; 0 turns the
    /// cache off (the benchmark of uncached searches uses it).
    #[arg(long, value_name = "N", default_value_t = webtool::search_cache::CAPACITY, hide = true)]
    search_cache: usize,
    /// Seconds a client has to send a request's headers before it is disconnected.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().header_read_timeout.as_secs(), hide = true)]
    header_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections, hide = true)]
    max_connections: usize,
}

/// Threads for blocking work (searches, matching, loading a snapshot) per core.
///
/// Searches are CPU-bound: more threads than cores do not answer sooner, they share the
/// cores among more half-done searches (each request waits for all of them) and switch
/// between them. A few more than the cores keep the cores busy while one thread reads
/// from disk or loads a new snapshot; further requests wait in tokio's queue, in order.
const BLOCKING_THREADS_PER_CORE: usize = 2;

fn main() -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(cores * BLOCKING_THREADS_PER_CORE)
        .build()
        .context("starting the async runtime")?
        .block_on(serve())
}

async fn serve() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut _demo_dir = None;
    let data = if cli.demo {
        let (dir, data, summary) = tokio::task::spawn_blocking(webtool::demo::build)
            .await
            .context("building the demo data")??;
        info!(profiles = summary.stats.profiles, "built the demo snapshot");
        _demo_dir = Some(dir);
        data
    } else {
        match cli.data {
            Some(dir) => DataDir::new(dir),
            None => bail!("give --data DIR or --demo"),
        }
    };
    let state = Arc::new(AppState::new(data).with_search_cache(cli.search_cache));
    state.refresh();
    tokio::spawn(watch(Arc::clone(&state), Duration::from_secs(5)));
    let address = SocketAddr::new(cli.bind, cli.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    info!("serving on http://{address}");
    let limits = Limits {
        header_read_timeout: Duration::from_secs(cli.header_timeout_secs),
        max_connections: cli.max_connections,
    };
    webtool::server::serve(listener, webtool::router(state), limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
