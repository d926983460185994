//! `exchange::parse::parse_page`, `connections::parse_thanks` / `parse_requests` on any
//! text, and the template writer's round trip on the same bytes read as a builder's form.
//! The properties are in `exchange/tests/fuzz_checks`.
#![no_main]

#[path = "../../exchange/tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::profile_parsing(data));
