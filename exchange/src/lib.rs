//! The Capacity Exchange domain: everything the tool knows, with no HTTP and no wiki client.
//!
//! Data flows one way: wikitext of user pages → [`wikitext`] (template calls) →
//! [`parse`] (profiles, resolved against the [`taxonomy`]) → [`store`] (a published
//! snapshot generation) → readers (the web tool, exports, reports). See ARCHITECTURE.md.

pub mod bidi;
pub mod collection;
pub mod connections;
pub mod dump;
pub mod export;
pub mod geo;
pub mod harvest;
pub mod import;
pub mod languages;
pub mod matching;
pub mod parse;
pub mod profile;
pub mod report;
pub mod search;
pub mod search_index;
pub mod stats;
pub mod store;
pub mod synth;
pub mod taxonomy;
pub mod template_writer;
pub mod text_key;
pub mod timezone;
pub mod wikitext;
