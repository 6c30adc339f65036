//! The tuning-file parser: any text gives a file or an error, never a panic; an accepted file
//! survives a write/parse round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use strass::tune::TuneFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(f) = TuneFile::parse(text, Path::new("tune.json")) else {
        return;
    };
    let again = serde_json::to_string(&f).expect("a tuning file serialises");
    TuneFile::parse(&again, Path::new("tune.json")).expect("a written tuning file parses");
});
