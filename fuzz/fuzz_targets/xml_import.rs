//! `exchange::dump::DumpReader` on any bytes (read whole and in small chunks), then the
//! import's alias rule, `harvest::harvest_page` and `Collection` on the pages it gives.
//! The properties are in `exchange/tests/fuzz_checks`.
#![no_main]

#[path = "../../exchange/tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::xml_import(data));
