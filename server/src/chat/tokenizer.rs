//! Counting tokens for context trimming, the demo provider and stop estimates, with OpenAI's
//! `o200k_base` BPE (the tokenizer of GPT-4o and later). For Claude and Gemini it is an
//! estimate; what is billed always comes from the provider's own usage report. The tables load
//! lazily on first use, so a server that never counts never pays their memory.

/// Tokens of a piece of text. CPU-bound for long texts: call it from blocking code.
pub fn count(text: &str) -> i64 {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len() as i64
}

/// Tokens a chat message costs beyond its text (role and separators), as OpenAI documents it.
pub const PER_MESSAGE_OVERHEAD: i64 = 4;

#[cfg(test)]
mod tests {
    #[test]
    fn counts_tokens_with_a_real_bpe() {
        assert_eq!(super::count(""), 0);
        assert_eq!(super::count("hello world"), 2);
        assert!(super::count("Ünïcödé text with 😀 emoji") > 5);
    }
}
