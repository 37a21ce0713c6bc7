//! A figure checked against its target: one row of the report's targets table.

use std::fmt::Write as _;

use super::format::number;

/// A figure checked against a target.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    /// The value, or why there is none.
    pub value: Result<f64, String>,
    pub unit: &'static str,
    pub target: Target,
}

#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// At most this much.
    AtMost(f64),
    /// Exactly this (used for "independent of length": the difference must be zero).
    Equals(f64),
    /// Reported without a target.
    None,
}

impl Figure {
    pub fn new(
        name: impl Into<String>,
        value: Result<f64, String>,
        unit: &'static str,
        target: Target,
    ) -> Self {
        Self {
            name: name.into(),
            value,
            unit,
            target,
        }
    }

    /// Whether the value meets the target; `None` when there is no target or no value.
    pub fn holds(&self) -> Option<bool> {
        let value = *self.value.as_ref().ok()?;
        match self.target {
            Target::AtMost(limit) => Some(value <= limit),
            Target::Equals(expected) => Some((value - expected).abs() < 1e-9),
            Target::None => None,
        }
    }

    pub fn row(&self) -> String {
        let value = match &self.value {
            Ok(v) => format!("{} {}", number(*v), self.unit)
                .trim_end()
                .to_owned(),
            Err(why) => format!("not measured: {why}"),
        };
        let target = match self.target {
            Target::AtMost(limit) => format!("≤ {} {}", number(limit), self.unit)
                .trim_end()
                .to_owned(),
            Target::Equals(expected) => format!("= {} {}", number(expected), self.unit)
                .trim_end()
                .to_owned(),
            Target::None => "–".into(),
        };
        let verdict = match self.holds() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        format!("| {} | {value} | {target} | {verdict} |", self.name)
    }
}

/// The targets table: every figure with its value, target and whether it holds.
pub fn figures_table(figures: &[Figure]) -> String {
    let mut table = String::from("| figure | value | target | holds |\n|---|---|---|---|\n");
    for figure in figures {
        let _ = writeln!(table, "{}", figure.row());
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_row_shows_value_target_and_verdict() {
        let met = Figure::new("idle RSS", Ok(21.46), "MB", Target::AtMost(30.0));
        assert_eq!(met.row(), "| idle RSS | 21.5 MB | ≤ 30 MB | yes |");
        let missed = Figure::new("added TTFT p99", Ok(7.25), "ms", Target::AtMost(5.0));
        assert_eq!(missed.holds(), Some(false));
        assert!(missed.row().ends_with("| **no** |"));
    }

    #[test]
    fn a_missing_figure_says_why_and_has_no_verdict() {
        let missing = Figure::new(
            "WASM gzip",
            Err("not built".into()),
            "KB",
            Target::AtMost(300.0),
        );
        assert_eq!(missing.holds(), None);
        assert_eq!(
            missing.row(),
            "| WASM gzip | not measured: not built | ≤ 300 KB | – |"
        );
    }

    #[test]
    fn an_equality_target_holds_only_when_equal() {
        let same = Figure::new("extra writes", Ok(0.0), "", Target::Equals(0.0));
        assert_eq!(same.holds(), Some(true));
        let more = Figure::new("extra writes", Ok(38.0), "", Target::Equals(0.0));
        assert_eq!(more.holds(), Some(false));
        assert_eq!(more.row(), "| extra writes | 38 | = 0 | **no** |");
    }
}
