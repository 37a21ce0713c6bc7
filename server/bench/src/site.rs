//! The size of the release WASM bundle that the site build writes into the site folder.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use flate2::{write::GzEncoder, Compression};

pub struct WasmSize {
    pub path: PathBuf,
    pub raw: u64,
    pub gzip: u64,
    /// The bundle carries DWARF (`.debug_*` sections) or a large `name` section, which the
    /// release build (wasm-opt) strips: a development build (`scripts/build-site`).
    pub debug_build: bool,
}

/// Reads `<site_root>/pkg/rustchat.wasm` and gzips it at level 9.
pub fn wasm_size(site_root: &Path) -> Result<WasmSize, String> {
    let path = site_root.join("pkg").join("rustchat.wasm");
    let bytes = std::fs::read(&path).map_err(|_| {
        format!(
            "`{}` is not built; build it with `. scripts/setup && scripts/build-site --release`",
            path.display()
        )
    })?;
    Ok(WasmSize {
        raw: bytes.len() as u64,
        gzip: gzip_len(&bytes)?,
        debug_build: custom_sections(&bytes)
            .iter()
            .any(|(name, size)| name.starts_with(".debug_") || (name == "name" && *size > 100_000)),
        path,
    })
}

/// The names and sizes of a WASM module's custom sections (id 0), in order; empty for anything
/// that is not a WASM module.
fn custom_sections(bytes: &[u8]) -> Vec<(String, usize)> {
    let mut names = Vec::new();
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return names;
    }
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let Some((size, after)) = leb128(bytes, at) else {
            break;
        };
        let end = after.saturating_add(size);
        if end > bytes.len() {
            break;
        }
        if id == 0 {
            if let Some((len, start)) = leb128(bytes, after) {
                if let Some(name) = bytes.get(start..start.saturating_add(len)) {
                    names.push((String::from_utf8_lossy(name).into_owned(), size));
                }
            }
        }
        at = end;
    }
    names
}

/// An unsigned LEB128 number at `at`: its value and the offset after it.
fn leb128(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
        shift += 7;
    }
}

fn gzip_len(bytes: &[u8]) -> Result<u64, String> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(9));
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    let compressed = encoder.finish().map_err(|e| e.to_string())?;
    Ok(compressed.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetitive_bytes_gzip_to_a_fraction_of_their_size() {
        let bytes = vec![7u8; 100_000];
        let gzip = gzip_len(&bytes).unwrap();
        assert!(gzip > 0 && gzip < 1_000, "{gzip}");
    }

    #[test]
    fn custom_sections_of_a_module_are_listed_by_name() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        // A type section (id 1) with no types, then a custom section named ".debug_line".
        module.extend([1, 1, 0]);
        let name = b".debug_line";
        module.extend([0, (name.len() + 3) as u8, name.len() as u8]);
        module.extend(name);
        module.extend([0xaa, 0xbb]);
        assert_eq!(
            custom_sections(&module),
            vec![(".debug_line".to_owned(), name.len() + 3)]
        );
        assert!(custom_sections(b"not wasm").is_empty());
        assert_eq!(leb128(&[0xe5, 0x8e, 0x26], 0), Some((624_485, 3)));
    }

    #[test]
    fn a_missing_bundle_says_how_to_build_it() {
        let err = wasm_size(Path::new("/nonexistent-site")).err().unwrap();
        assert!(err.contains("scripts/build-site --release"), "{err}");
    }
}
