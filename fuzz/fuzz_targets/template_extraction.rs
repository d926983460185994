//! `exchange::wikitext::extract` / `template_calls` and the plain-text reduction on any
//! text (bytes decoded lossily). The properties are in `exchange/tests/fuzz_checks`.
#![no_main]

#[path = "../../exchange/tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::template_extraction(data));
