//! How numbers and dates read in the UI: tokens with separators, context sizes, moments. Money is
//! [`crate::wire::Micros`]'s to format.

/// `12345` → `12,345`.
pub fn tokens(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `128000` → `128K`, `1048576` → `1M`.
pub fn context_window(tokens: i32) -> String {
    if tokens >= 1_000_000 {
        format!("{}M", tokens / 1_000_000)
    } else {
        format!("{}K", tokens / 1_000)
    }
}

/// A moment as the pages print it: `2 Dec 2026, 05:07 UTC`.
pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// A day as the pages print it: `2 Dec 2026`.
pub fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

/// A file's size: `900 B`, `12 KB`, `3.4 MB`.
pub fn bytes(n: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if n < KB {
        format!("{n} B")
    } else if n < MB {
        format!("{} KB", n.div_ceil(KB))
    } else {
        format!("{}.{} MB", n / MB, (n % MB) * 10 / MB)
    }
}

/// A rough count for the input box: about four characters per token.
pub fn estimate_tokens(text: &str) -> i64 {
    let chars = text.chars().count() as i64;
    (chars + 3) / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(tokens(1_234_567), "1,234,567");
        assert_eq!(tokens(999), "999");
        assert_eq!(context_window(128_000), "128K");
        assert_eq!(context_window(1_048_576), "1M");
        assert_eq!(estimate_tokens("hello world!"), 3);
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T05:07:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(when(at), "2 Dec 2026, 05:07 UTC");
        assert_eq!(day(at), "2 Dec 2026");
    }
}
