//! What an image costs in input tokens, by each provider's published formula for its size, so
//! the server's context count and budget reservation, and the composer's estimate in the
//! browser, include it before the provider says.

use super::ProviderId;

/// The size assumed for an image whose header did not say (a common photo's).
const UNKNOWN_SIZE: (u32, u32) = (1024, 1024);

pub fn image_tokens(provider: ProviderId, size: Option<(u32, u32)>) -> i64 {
    let (width, height) = size.unwrap_or(UNKNOWN_SIZE);
    let (width, height) = (f64::from(width.max(1)), f64::from(height.max(1)));
    match provider {
        ProviderId::Anthropic => anthropic(width, height),
        ProviderId::Google => gemini(width, height),
        // OpenAI's formula also for compatible servers and the demo: the most common one.
        _ => openai(width, height),
    }
}

/// OpenAI, `detail: auto` at high detail: the image is fitted into 2048×2048, then its short
/// side scaled down to 768; each 512-pixel tile costs 170 tokens, plus 85.
fn openai(width: f64, height: f64) -> i64 {
    let fit = (2048.0 / width.max(height)).min(1.0);
    let (w, h) = (width * fit, height * fit);
    let shrink = (768.0 / w.min(h)).min(1.0);
    let (w, h) = (w * shrink, h * shrink);
    let tiles = (w / 512.0).ceil() * (h / 512.0).ceil();
    85 + 170 * tiles as i64
}

/// Anthropic: width × height / 750, after scaling the long edge down to 1568 pixels; larger
/// images are scaled down to about 1600 tokens.
fn anthropic(width: f64, height: f64) -> i64 {
    let fit = (1568.0 / width.max(height)).min(1.0);
    let (w, h) = (width * fit, height * fit);
    ((w * h / 750.0).ceil() as i64).min(1600)
}

/// Gemini: an image at most 384 pixels on both sides is 258 tokens; a larger one is cut into
/// 768×768 tiles of 258 tokens each.
fn gemini(width: f64, height: f64) -> i64 {
    if width <= 384.0 && height <= 384.0 {
        return 258;
    }
    let tiles = (width / 768.0).ceil() * (height / 768.0).ceil();
    258 * tiles as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_examples_come_out() {
        // OpenAI's documented examples: 1024×1024 is 765 tokens, 2048×4096 is 1105.
        assert_eq!(image_tokens(ProviderId::OpenAi, Some((1024, 1024))), 765);
        assert_eq!(image_tokens(ProviderId::OpenAi, Some((2048, 4096))), 1105);
        // Anthropic's table: 1092×1092 is about 1590 tokens.
        assert_eq!(
            image_tokens(ProviderId::Anthropic, Some((1092, 1092))),
            1590
        );
        // Gemini: small images 258, a 1000×1000 one four tiles.
        assert_eq!(image_tokens(ProviderId::Google, Some((300, 200))), 258);
        assert_eq!(image_tokens(ProviderId::Google, Some((1000, 1000))), 1032);
    }
}
