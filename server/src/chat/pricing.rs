//! Cost in integer micro-dollars from a message's snapshotted prices (ARCHITECTURE.md,
//! "Accounting"): uncached input at the input price, cache reads at the cached-input price
//! (the input price when the model has none), cache writes at 1.25× input, output at the output
//! price; all per million tokens, rounded once at the end, half up.

use super::provider::Usage;
use crate::db::entities::ai_model_configs;

/// Prices in micro-dollars per million tokens, as copied onto a message when it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PriceSnapshot {
    pub input: i64,
    pub cached_input: Option<i64>,
    pub output: i64,
}

impl PriceSnapshot {
    /// The model's prices now, to copy onto a new reply.
    pub fn of(model: &ai_model_configs::Model) -> Self {
        Self {
            input: model.input_micros_per_mtok,
            cached_input: model.cached_input_micros_per_mtok,
            output: model.output_micros_per_mtok,
        }
    }

    pub fn cost_micros(&self, usage: &Usage) -> i64 {
        let uncached =
            (usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens).max(0) as i128;
        let cached = usage.cached_tokens.max(0) as i128;
        let written = usage.cache_write_tokens.max(0) as i128;
        let output = usage.completion_tokens.max(0) as i128;
        let input_price = self.input as i128;
        let cached_price = self.cached_input.unwrap_or(self.input) as i128;
        // Everything times 4 so the 1.25× of cache writes stays an integer.
        let quarter_micro_tokens = 4 * uncached * input_price
            + 4 * cached * cached_price
            + 5 * written * input_price
            + 4 * output * self.output as i128;
        let divisor: i128 = 4 * 1_000_000;
        ((quarter_micro_tokens + divisor / 2) / divisor) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(prompt: i64, cached: i64, written: i64, completion: i64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            cached_tokens: cached,
            cache_write_tokens: written,
            reasoning_tokens: 0,
        }
    }

    #[test]
    fn gpt_4o_list_prices() {
        // $2.50 in, $1.25 cached, $10 out per million tokens.
        let prices = PriceSnapshot {
            input: 2_500_000,
            cached_input: Some(1_250_000),
            output: 10_000_000,
        };
        // 1000 uncached × 2.5 + 1000 cached × 1.25 + 500 out × 10 = 2500 + 1250 + 5000 micro-dollars
        assert_eq!(prices.cost_micros(&usage(2000, 1000, 0, 500)), 8750);
    }

    #[test]
    fn cache_writes_cost_a_quarter_more_than_input() {
        // Claude Sonnet: $3 in, $0.30 cache read, $15 out.
        let prices = PriceSnapshot {
            input: 3_000_000,
            cached_input: Some(300_000),
            output: 15_000_000,
        };
        // 10 × 3 + 1000 × 0.3 + 200 × 3.75 + 42 × 15 = 30 + 300 + 750 + 630
        assert_eq!(prices.cost_micros(&usage(1210, 1000, 200, 42)), 1710);
    }

    #[test]
    fn rounds_once_half_up() {
        let prices = PriceSnapshot {
            input: 500_000,
            cached_input: None,
            output: 0,
        };
        assert_eq!(prices.cost_micros(&usage(1, 0, 0, 0)), 1); // 0.5 micro-dollars → 1
        let prices = PriceSnapshot {
            input: 400_000,
            cached_input: None,
            output: 400_000,
        };
        // 0.4 + 0.4 = 0.8 → 1, where rounding each part would give 0.
        assert_eq!(prices.cost_micros(&usage(1, 0, 0, 1)), 1);
    }

    #[test]
    fn without_a_cached_price_cache_reads_cost_the_input_price() {
        let prices = PriceSnapshot {
            input: 1_000_000,
            cached_input: None,
            output: 0,
        };
        assert_eq!(prices.cost_micros(&usage(1000, 400, 0, 0)), 1000);
    }

    #[test]
    fn the_demo_is_free() {
        assert_eq!(
            PriceSnapshot::default().cost_micros(&usage(123_456, 0, 0, 7_890)),
            0
        );
    }
}
