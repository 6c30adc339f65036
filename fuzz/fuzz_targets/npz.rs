//! The AlphaTensor `.npz` importer: any archive gives a scheme or an error, never a panic, a
//! huge allocation or a long decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) =
        strass::scheme::import::alphatensor_from_bytes(data, Path::new("fuzz.npz"), "2,2,2")
    {
        let _ = s.verify();
    }
});
