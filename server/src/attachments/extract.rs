//! The text of a document, read once at upload so a send never parses a file: PDF through
//! `lopdf`, DOCX as its zip's `word/document.xml` through `quick-xml`, text files as they are.
//! Blocking work: callers run it on the blocking pool. Bounded in pages, characters, bytes
//! inflated and time, so a hostile file costs at most that much. A document without text (a
//! scanned PDF) says so in words, so the model and the person know why it has nothing to read.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::Path,
    time::{Duration, Instant},
};

use quick_xml::events::Event;

/// What extraction may spend on one document.
#[derive(Clone, Copy, Debug)]
pub struct ExtractLimits {
    pub max_pages: u32,
    pub max_chars: usize,
    pub max_time: Duration,
    /// The most bytes a compressed part (a PDF page, a DOCX's XML) may inflate to.
    pub max_inflated_bytes: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_pages: 500,
            // About 50,000 tokens: a long report, not a library.
            max_chars: 200_000,
            max_time: Duration::from_secs(20),
            max_inflated_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Text with what was left out said in words.
pub fn pdf(path: &Path, limits: ExtractLimits) -> String {
    let started = Instant::now();
    let document = match lopdf::Document::load(path) {
        Ok(document) => document,
        Err(e) => {
            tracing::info!(error = %e, "a PDF could not be parsed");
            return "[This PDF could not be read: it may be damaged or encrypted.]".into();
        }
    };
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let mut text = Text::new(limits.max_chars);
    let mut read = 0;
    for page in pages.iter().take(limits.max_pages as usize) {
        if started.elapsed() > limits.max_time || text.is_full() {
            break;
        }
        if let Ok(page_text) = document.extract_text_with_limit(&[*page], limits.max_inflated_bytes)
        {
            text.push(&page_text);
        }
        read += 1;
    }
    if text.is_blank() {
        return format!(
            "[This PDF has {} page(s) but no text that can be extracted: it is probably scanned \
             images. Its pages were not sent.]",
            pages.len()
        );
    }
    let mut out = text.finish();
    if read < pages.len() {
        out.push_str(&format!(
            "\n[Only the first {read} of {} pages were read.]",
            pages.len()
        ));
    }
    out
}

pub fn docx(path: &Path, limits: ExtractLimits) -> String {
    let started = Instant::now();
    let unreadable = "[This DOCX could not be read: it may be damaged.]".to_owned();
    let Ok(file) = File::open(path) else {
        return unreadable;
    };
    let Ok(mut archive) = zip::ZipArchive::new(BufReader::new(file)) else {
        return unreadable;
    };
    let Ok(part) = archive.by_name("word/document.xml") else {
        return unreadable;
    };
    let mut reader =
        quick_xml::Reader::from_reader(BufReader::new(part.take(limits.max_inflated_bytes as u64)));
    let mut text = Text::new(limits.max_chars);
    let mut buf = Vec::new();
    let mut in_text = false;
    loop {
        if text.is_full() || started.elapsed() > limits.max_time {
            break;
        }
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"t" => in_text = true,
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => text.push("\n"),
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                b"tab" => text.push("\t"),
                b"br" | b"cr" => text.push("\n"),
                _ => {}
            },
            Ok(Event::Text(e)) if in_text => {
                if let Ok(piece) = e.decode() {
                    text.push(&piece);
                }
            }
            Ok(Event::GeneralRef(e)) if in_text => {
                let entity = match &*e {
                    b"amp" => Some('&'),
                    b"lt" => Some('<'),
                    b"gt" => Some('>'),
                    b"quot" => Some('"'),
                    b"apos" => Some('\''),
                    _ => e.resolve_char_ref().ok().flatten(),
                };
                if let Some(c) = entity {
                    text.push(c.encode_utf8(&mut [0; 4]));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        buf.clear();
    }
    if text.is_blank() {
        return "[This DOCX has no text.]".into();
    }
    text.finish()
}

/// A text file is already its text (it was checked to be UTF-8); only its length is bounded.
pub fn text_file(path: &Path, limits: ExtractLimits) -> String {
    let mut bytes = Vec::new();
    // Four bytes per character at most: enough for the character limit.
    let read = File::open(path).and_then(|f| {
        f.take((limits.max_chars * 4) as u64)
            .read_to_end(&mut bytes)
    });
    if read.is_err() {
        return "[This file could not be read.]".into();
    }
    let mut text = Text::new(limits.max_chars);
    text.push(&String::from_utf8_lossy(&bytes));
    text.finish()
}

/// Text gathered up to a number of characters; what did not fit is said at the end.
struct Text {
    out: String,
    chars: usize,
    max_chars: usize,
    cut: bool,
}

impl Text {
    fn new(max_chars: usize) -> Self {
        Self {
            out: String::new(),
            chars: 0,
            max_chars,
            cut: false,
        }
    }

    fn push(&mut self, piece: &str) {
        for c in piece.chars() {
            if self.chars >= self.max_chars {
                self.cut = true;
                return;
            }
            self.out.push(c);
            self.chars += 1;
        }
    }

    fn is_full(&self) -> bool {
        self.cut
    }

    fn is_blank(&self) -> bool {
        self.out.trim().is_empty()
    }

    fn finish(self) -> String {
        let mut out = self.out.trim_end().to_owned();
        if self.cut {
            out.push_str(&format!(
                "\n[The text was cut after {} characters.]",
                self.max_chars
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn docx_with(xml: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        zip.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
        zip.finish().unwrap();
        file
    }

    #[test]
    fn docx_paragraphs_become_lines_and_entities_are_read() {
        let file = docx_with(
            r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Fish &amp; chips</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">Second </w:t><w:tab/><w:t>line</w:t></w:r></w:p></w:body></w:document>"#,
        );
        assert_eq!(
            docx(file.path(), ExtractLimits::default()),
            "Fish & chips\nSecond \tline"
        );
    }

    #[test]
    fn long_text_is_cut_and_says_so() {
        let file = file_with("word ".repeat(100).as_bytes());
        let limits = ExtractLimits {
            max_chars: 20,
            ..ExtractLimits::default()
        };
        let text = text_file(file.path(), limits);
        assert!(text.starts_with("word word word word"));
        assert!(text.ends_with("[The text was cut after 20 characters.]"));
    }

    #[test]
    fn a_pdf_that_cannot_be_parsed_says_so() {
        let file = file_with(b"%PDF-1.4\nnot really");
        assert!(pdf(file.path(), ExtractLimits::default()).contains("could not be read"));
    }
}
