//! `webtool --demo`: a snapshot built from a bundled sample export, no set-up needed.
//!
//! The sample is `demo/sample-export.xml.gz`, made by `indexer synth --profiles 300` with the
//! default seed (a test checks it is still what synth makes). It is imported with the same
//! code as a real export into a temporary data directory that lives as long as the server.

use anyhow::{Context, Result};
use exchange::dump;
use exchange::import::{ImportSummary, import};
use exchange::store::DataDir;
use tempfile::TempDir;

/// The bundled sample export.
pub const SAMPLE_EXPORT: &[u8] = include_bytes!("../demo/sample-export.xml.gz");
/// How many people the sample was generated with.
pub const SAMPLE_PROFILES: usize = 300;

/// Imports the sample into a fresh temporary data directory.
pub fn build() -> Result<(TempDir, DataDir, ImportSummary)> {
    let dir = tempfile::Builder::new()
        .prefix("capx-demo-")
        .tempdir()
        .context("creating a temporary directory for the demo data")?;
    let data = DataDir::new(dir.path());
    let open = || Ok(dump::open_bytes(SAMPLE_EXPORT));
    let summary = import(&open, &data, "bundled demo export", &mut |_| {})
        .context("importing the bundled demo export")?;
    Ok((dir, data, summary))
}
