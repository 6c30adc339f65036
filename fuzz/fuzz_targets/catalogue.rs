//! The catalogue importers (FastMatrixMultiplication JSON, flips `.exp`): any text gives a scheme
//! or an error from each, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use strass::scheme::import::{flips_exp_from_str, perminov_from_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [
        perminov_from_str(text, Path::new("fuzz.json")),
        flips_exp_from_str(text, Path::new("fuzz.exp")),
    ] {
        if let Ok(s) = parsed {
            let _ = s.verify();
        }
    }
});
