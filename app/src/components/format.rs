//! How numbers read in the UI: tokens with separators, money from micro-dollars, context sizes.

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

/// Micro-dollars as dollars: four decimals under a dollar (API costs are small), two above.
pub fn cost(micros: i64) -> String {
    let dollars = micros as f64 / 1_000_000.0;
    if micros == 0 {
        "$0.00".into()
    } else if dollars < 1.0 {
        format!("${dollars:.4}")
    } else {
        format!("${dollars:.2}")
    }
}

/// Micro-dollars as a plain decimal of dollars, exact and without trailing zeros, as typed
/// into a form: `2500000` → `2.5`, `1` → `0.000001`, `10000000` → `10`.
pub fn dollars_exact(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let fraction = format!("{:06}", abs % 1_000_000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{}", abs / 1_000_000)
    } else {
        format!("{sign}{}.{fraction}", abs / 1_000_000)
    }
}

/// Micro-dollars exactly, for small amounts on chart axes: `2` → `$0.000002`, `1500` →
/// `$0.0015`, `0` → `$0`.
pub fn cost_exact(micros: i64) -> String {
    format!("${}", dollars_exact(micros))
}

/// A price per million tokens, e.g. `$2.50`.
pub fn price_per_mtok(micros: i64) -> String {
    let dollars = micros as f64 / 1_000_000.0;
    if dollars == 0.0 {
        "free".into()
    } else if dollars < 0.1 {
        format!("${dollars:.3}")
    } else {
        format!("${dollars:.2}")
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

/// A rough count for the input box: about four characters per token.
pub fn estimate_tokens(text: &str) -> i64 {
    let chars = text.chars().count() as i64;
    (chars + 3) / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_costs_keep_every_micro_dollar() {
        assert_eq!(cost_exact(2), "$0.000002");
        assert_eq!(cost_exact(1_500), "$0.0015");
        assert_eq!(cost_exact(0), "$0");
        assert_eq!(cost_exact(2_000_000), "$2");
        assert_eq!(dollars_exact(2_500_000), "2.5");
        assert_eq!(dollars_exact(150_000), "0.15");
        assert_eq!(dollars_exact(-5), "-0.000005");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(tokens(1_234_567), "1,234,567");
        assert_eq!(tokens(999), "999");
        assert_eq!(cost(0), "$0.00");
        assert_eq!(cost(8_750), "$0.0088");
        assert_eq!(cost(12_340_000), "$12.34");
        assert_eq!(price_per_mtok(2_500_000), "$2.50");
        assert_eq!(context_window(128_000), "128K");
        assert_eq!(context_window(1_048_576), "1M");
        assert_eq!(estimate_tokens("hello world!"), 3);
    }
}
