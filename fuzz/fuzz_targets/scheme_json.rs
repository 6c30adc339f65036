//! The `strass-scheme/1` loader: any text gives a scheme or an error, never a panic. A scheme it
//! accepts verifies, compiles (when valid) and survives a save/load round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use strass::Scheme;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = Scheme::from_json_str(text, Path::new("fuzz.json")) else {
        return;
    };
    let valid = s.verify().is_valid();
    if valid {
        strass::plan::Plan::compile(&s).expect("a valid scheme compiles");
    }
    let _ = strass::scheme::canonical_form(&s);
    let _ = strass::scheme::match_strassen(&s);
    let back = Scheme::from_json_str(&s.to_json_string(), Path::new("fuzz.json"))
        .expect("a saved scheme loads");
    assert_eq!(back, s);
});
