//! The site's files (`LEPTOS_SITE_ROOT`: the WASM, its JS glue, the CSS and what `public/`
//! holds), and compression for everything else the server answers.
//!
//! A static file goes out as brotli or gzip when the browser takes it, compressed once at the
//! best level into a `.br` and a `.gz` beside it: [`precompress_in_background`] writes them
//! when the server starts (skipping those newer than their file). Until they exist, or where
//! the site folder cannot be written, the file is compressed per request like the pages and
//! the JSON ([`dynamic`], at a fast level). The names carry no hash, so every file says
//! `no-cache`: the browser keeps it and asks again with `If-Modified-Since` (304 when it has
//! not changed), and a new build is seen on the next load.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode, Version},
    Router,
};
use tower_http::{
    compression::{
        predicate::{Predicate, SizeAbove},
        CompressionLayer, CompressionLevel,
    },
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
};

use crate::state::AppState;

/// Smaller bodies are sent as they are: compressing them saves less than its framing costs.
const MIN_SIZE: u16 = 1024;

/// Files up to this size are precompressed at the best level.
const BEST_UP_TO: usize = 4 << 20;

/// The extensions worth compressing (images other than SVG and fonts already are).
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "svg", "html", "json", "txt", "map"];

/// Compression of the pages, the JSON and the site's files not yet precompressed: brotli or
/// gzip at level 4 (brotli's best is about 100 times slower for a few percent), text types
/// only, above [`MIN_SIZE`]. Not for the WebSocket, whose upgrade has no body to compress.
pub fn dynamic() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(SizeAbove::new(MIN_SIZE).and(is_text))
}

fn is_text(_: StatusCode, _: Version, headers: &HeaderMap, _: &http::Extensions) -> bool {
    let Some(kind) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let kind = kind.split(';').next().unwrap_or_default().trim();
    kind.starts_with("text/") && kind != "text/event-stream"
        || matches!(
            kind,
            "application/json"
                | "application/javascript"
                | "application/wasm"
                | "image/svg+xml"
                | "application/x-ndjson"
        )
}

/// The site's files, each its `.br` or `.gz` when there is one and the browser takes it;
/// anything else is the app's 404 page.
pub fn router(state: &AppState) -> Router<AppState> {
    let options = &state.leptos_options;
    let not_found = axum::handler::Handler::with_state(
        leptos_axum::file_and_error_handler::<AppState, _>(app::shell),
        state.clone(),
    );
    let files = ServeDir::new(options.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip()
        .fallback(not_found);
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(dynamic())
}

/// Writes the missing or stale `.br` and `.gz` of the site's files, on a blocking thread
/// (brotli at its best level takes a second or two for the WASM). A folder that cannot be
/// written is left as it is: its files are then compressed per request.
pub fn precompress_in_background(site_root: PathBuf) {
    tokio::task::spawn_blocking(move || match precompress(&site_root) {
        Ok(0) => {}
        Ok(written) => {
            // Brotli's best level works in tens of MB of blocks: hand them back now.
            crate::memory::release_freed();
            tracing::info!(
                written,
                site_root = %site_root.display(),
                "precompressed the site's files"
            );
        }
        Err(e) => tracing::debug!(
            site_root = %site_root.display(),
            "the site's files are compressed per request: {e}"
        ),
    });
}

/// The `.br` and `.gz` written under `dir`, recursively.
pub fn precompress(dir: &Path) -> io::Result<usize> {
    let mut written = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            written += precompress(&path)?;
        } else if kind.is_file() && wanted(&path, entry.metadata()?.len()) {
            for encoding in [Encoding::Brotli, Encoding::Gzip] {
                if compress_if_stale(&path, encoding)? {
                    written += 1;
                }
            }
        }
    }
    Ok(written)
}

fn wanted(path: &Path, size: u64) -> bool {
    size >= u64::from(MIN_SIZE)
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e))
}

#[derive(Clone, Copy)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    fn suffix(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gz",
        }
    }
}

/// Compresses `path` into `path.br` or `path.gz` unless that is newer; written under a
/// temporary name and renamed, so a server starting beside this one never serves half a file.
fn compress_if_stale(path: &Path, encoding: Encoding) -> io::Result<bool> {
    let mut target = path.as_os_str().to_owned();
    target.push(".");
    target.push(encoding.suffix());
    let target = PathBuf::from(target);
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified());
    if let (Ok(source), Ok(compressed)) = (modified(path), modified(&target)) {
        if compressed >= source {
            return Ok(false);
        }
    }
    let body = fs::read(path)?;
    let temporary =
        target.with_extension(format!("{}.{}.tmp", encoding.suffix(), std::process::id()));
    let written = write_compressed(&temporary, &body, encoding)
        .and_then(|()| fs::rename(&temporary, &target));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.map(|()| true)
}

fn write_compressed(target: &Path, body: &[u8], encoding: Encoding) -> io::Result<()> {
    let file = fs::File::create(target)?;
    match encoding {
        Encoding::Brotli => {
            // Quality 11 for a release build's files; a debug build's WASM (16 MB) would keep a
            // core busy for half a minute at 11, and takes a fraction of a second at 5.
            let quality = if body.len() > BEST_UP_TO { 5 } else { 11 };
            let mut writer = brotli::CompressorWriter::new(file, 64 * 1024, quality, 22);
            writer.write_all(body)?;
            writer.flush()?;
            writer.into_inner().sync_all()
        }
        Encoding::Gzip => {
            let level = if body.len() > BEST_UP_TO { 6 } else { 9 };
            let mut writer = flate2::write::GzEncoder::new(file, flate2::Compression::new(level));
            writer.write_all(body)?;
            writer.finish()?.sync_all()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn text_files_get_a_brotli_and_a_gzip_copy_once_and_again_when_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        fs::create_dir(&pkg).unwrap();
        let script = "console.log('rustchat');\n".repeat(200);
        fs::write(pkg.join("app.js"), &script).unwrap();
        fs::write(pkg.join("tiny.css"), "a{}").unwrap();
        fs::write(dir.path().join("photo.png"), vec![7u8; 4096]).unwrap();

        assert_eq!(precompress(dir.path()).unwrap(), 2);
        let mut unpacked = String::new();
        brotli::Decompressor::new(fs::File::open(pkg.join("app.js.br")).unwrap(), 4096)
            .read_to_string(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, script);
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(fs::File::open(pkg.join("app.js.gz")).unwrap())
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, script);
        assert!(
            !pkg.join("tiny.css.br").exists(),
            "too small to be worth it"
        );
        assert!(!dir.path().join("photo.png.br").exists(), "not text");

        assert_eq!(precompress(dir.path()).unwrap(), 0, "nothing changed");
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(pkg.join("app.js"), script.replace("rustchat", "changed")).unwrap();
        assert_eq!(precompress(dir.path()).unwrap(), 2, "a new build");
        let leftovers = fs::read_dir(&pkg)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn only_text_is_compressed_per_request() {
        let with = |kind: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(kind).unwrap());
            is_text(
                StatusCode::OK,
                Version::HTTP_11,
                &headers,
                &http::Extensions::new(),
            )
        };
        assert!(with("text/html; charset=utf-8"));
        assert!(with("application/json"));
        assert!(with("application/wasm"));
        assert!(!with("text/event-stream"));
        assert!(!with("image/png"));
        assert!(!with("application/pdf"));
        assert!(!is_text(
            StatusCode::OK,
            Version::HTTP_11,
            &HeaderMap::new(),
            &http::Extensions::new()
        ));
    }
}
