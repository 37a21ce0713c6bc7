//! How numbers and tables are written in the report.

use std::fmt::Write as _;

use crate::stats::Summary;

/// A number with as many decimals as its size deserves.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.1 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// Milliseconds, written like any other number.
pub fn ms(value: f64) -> String {
    number(value)
}

/// A number, or a dash for a figure that was not measured.
pub fn number_or_dash(value: Option<f64>) -> String {
    value.map(number).unwrap_or_else(|| "–".into())
}

/// Thousands separated by commas, for counts and byte sizes.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Resident memory figures in MB (10^6 bytes), from MiB.
pub fn mb(mib: Option<f64>) -> Result<f64, String> {
    mib.map(|m| m * 1_048_576.0 / 1e6)
        .ok_or_else(|| "cannot read /proc".into())
}

/// p50 / p95 / p99 in ms, or a dash.
pub fn summary_cells(summary: Option<Summary>) -> String {
    match summary {
        Some(s) => format!("{} / {} / {}", ms(s.p50), ms(s.p95), ms(s.p99)),
        None => "–".into(),
    }
}

/// A markdown table from a header and rows.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_counts_read_well() {
        assert_eq!(number(0.0423), "0.042");
        assert_eq!(number(4.56789), "4.57");
        assert_eq!(number(1234.6), "1235");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        let t = table(&["a", "b"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| 1 | 2 |\n");
    }
}
