//! What an upload is, told from its bytes, never from its name: images (PNG, JPEG, WebP, GIF),
//! PDF and DOCX by their signatures (`infer`), and text or source files as valid UTF-8 with
//! no NUL byte. The name only has a say in one direction: text is accepted only under a name
//! a text file has, so an HTML page called `cat.png` is refused rather than kept as text.

use app::wire::AttachmentKind;

/// How many leading bytes the signature check reads (a DOCX's `word/` entry can sit a few
/// kilobytes into its zip).
pub const HEAD_BYTES: usize = 64 * 1024;

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// The type an upload was found to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub kind: AttachmentKind,
}

/// What the signature check says about the first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    Known(Sniffed),
    /// A zip that may be a DOCX whose `word/` entries come late: the whole file decides.
    Zip,
    /// No binary signature: text, if every byte says so.
    None,
    /// A type we do not take (an executable, an archive, HTML, …).
    Refused,
}

pub fn signature(head: &[u8]) -> Signature {
    let Some(found) = infer::get(head) else {
        return Signature::None;
    };
    let known = |content_type, kind| Signature::Known(Sniffed { content_type, kind });
    match found.mime_type() {
        "image/png" => known("image/png", AttachmentKind::Image),
        "image/jpeg" => known("image/jpeg", AttachmentKind::Image),
        "image/webp" => known("image/webp", AttachmentKind::Image),
        "image/gif" => known("image/gif", AttachmentKind::Image),
        "application/pdf" => known("application/pdf", AttachmentKind::Document),
        DOCX => known(DOCX, AttachmentKind::Document),
        "application/zip" => Signature::Zip,
        // HTML, XML, shell scripts: text, kept as plain text only under a text file's name.
        text if text.starts_with("text/") => Signature::None,
        _ => Signature::Refused,
    }
}

/// Text, when the bytes were valid UTF-8 without NUL and the name is a text file's.
pub fn text(valid_utf8: bool, file_name: &str) -> Option<Sniffed> {
    (valid_utf8 && has_text_name(file_name)).then_some(Sniffed {
        content_type: TEXT,
        kind: AttachmentKind::Text,
    })
}

/// Extensions of text and source files; a name without one (`Makefile`, `README`) counts too.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "text",
    "md",
    "markdown",
    "rst",
    "adoc",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "properties",
    "xml",
    "html",
    "htm",
    "css",
    "scss",
    "less",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "vue",
    "svelte",
    "rs",
    "py",
    "rb",
    "go",
    "java",
    "kt",
    "kts",
    "scala",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "cs",
    "fs",
    "swift",
    "m",
    "mm",
    "php",
    "pl",
    "pm",
    "r",
    "lua",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "bat",
    "sql",
    "graphql",
    "proto",
    "tex",
    "bib",
    "log",
    "diff",
    "patch",
    "dart",
    "ex",
    "exs",
    "erl",
    "hrl",
    "hs",
    "clj",
    "elm",
    "ml",
    "mli",
    "nim",
    "zig",
    "jl",
    "gradle",
    "dockerfile",
    "makefile",
    "cmake",
    "tf",
    "hcl",
    "srt",
    "vtt",
    "ipynb",
    "svg",
];

fn has_text_name(file_name: &str) -> bool {
    match file_name.rsplit_once('.') {
        None => true,
        Some(("", _)) => true,
        Some((_, extension)) => TEXT_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()),
    }
}

/// Checks UTF-8 across chunks as they stream in: a character cut between two chunks is held
/// until the next one completes it.
#[derive(Debug, Default)]
pub struct Utf8Check {
    carry: Vec<u8>,
    invalid: bool,
}

impl Utf8Check {
    pub fn push(&mut self, chunk: &[u8]) {
        if self.invalid {
            return;
        }
        if chunk.contains(&0) {
            self.invalid = true;
            return;
        }
        let mut joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(chunk);
            &joined[..]
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => self.carry.clear(),
            // Cut at the end: keep the start of the character for the next chunk.
            Err(e) if e.error_len().is_none() => {
                self.carry = bytes[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.invalid = true,
        }
    }

    pub fn is_valid(&self) -> bool {
        !self.invalid && self.carry.is_empty()
    }
}

/// The pixel size of an image from its leading bytes (PNG, GIF, WebP, and JPEG up to its
/// frame header), for the token estimate; `None` when the bytes do not say.
pub fn image_size(head: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes(
            head.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let le16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes(
            head.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(head.get(at..at + 4)?.try_into().ok()?))
    };
    let le24 = |at: usize| -> Option<u32> {
        let b = head.get(at..at + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if head.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return match head.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" => {
                let bits = u32::from_le_bytes(head.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            _ => None,
        };
    }
    if head.starts_with(&[0xff, 0xd8]) {
        // Walk the segments to the first start-of-frame marker.
        let mut at = 2;
        while at + 4 <= head.len() {
            if head[at] != 0xff {
                return None;
            }
            let marker = head[at + 1];
            if marker == 0xff {
                at += 1;
                continue;
            }
            let length = be16(at + 2)? as usize;
            let is_frame = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
            if is_frame {
                return Some((be16(at + 7)?, be16(at + 5)?));
            }
            at += 2 + length;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_text_only_under_a_text_name_and_executables_are_refused() {
        assert_eq!(signature(b"<html><body>hi</body></html>"), Signature::None);
        assert_eq!(
            signature(b"MZ\x90\x00\x03\x00\x00\x00PE\0\0"),
            Signature::Refused
        );
        // Text that infer cannot tell from HTML still needs a text file's name.
        assert_eq!(text(true, "cat.png"), None);
        assert!(text(true, "main.rs").is_some());
        assert!(text(true, "Makefile").is_some());
        assert!(text(false, "notes.txt").is_none());
    }

    #[test]
    fn utf8_cut_between_chunks_is_still_valid_and_nul_is_not() {
        let text = "héllo wörld ✓".as_bytes();
        let mut check = Utf8Check::default();
        for chunk in text.chunks(1) {
            check.push(chunk);
        }
        assert!(check.is_valid());
        let mut check = Utf8Check::default();
        check.push(b"abc\0");
        assert!(!check.is_valid());
        let mut check = Utf8Check::default();
        check.push(&[0xe2, 0x9c]);
        assert!(!check.is_valid(), "a character cut at the end of the file");
    }

    #[test]
    fn image_sizes_come_from_the_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_size(&png), Some((640, 480)));
        let gif = b"GIF89a\x20\x03\x58\x02";
        assert_eq!(image_size(gif), Some((800, 600)));
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0];
        jpeg.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x00, 0x02, 0x00]);
        assert_eq!(image_size(&jpeg), Some((512, 256)));
    }
}
