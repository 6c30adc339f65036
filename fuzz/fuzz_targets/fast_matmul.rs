//! The fast-matmul text importer: any text gives a scheme or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = strass::scheme::import::fast_matmul_from_str(text, Path::new("fuzz")) {
        let _ = s.verify();
    }
});
