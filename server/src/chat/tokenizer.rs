//! Counting tokens for context trimming, the demo provider and stop estimates, with OpenAI's
//! `o200k_base` BPE (the tokenizer of GPT-4o and later). For Claude and Gemini it is an
//! estimate; what is billed always comes from the provider's own usage report.
//!
//! The server only ever counts, so it keeps no more than counting needs: the vocabulary the
//! build wrote into the binary (`build.rs`), where each rank's bytes start in it, and a hash
//! table of ranks found by their bytes. About 2 MB once loaded, where tiktoken-rs's encoder,
//! decoder, sorted copy and 128 regex clones took about 30 MB. It is built lazily on the
//! first count (a server that never counts never pays for it), and a test pins every count to
//! tiktoken-rs's.

use std::{cmp::Reverse, collections::BinaryHeap, hash::BuildHasher, sync::OnceLock};

use fancy_regex::Regex;
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Tokens of a piece of text. CPU-bound for long texts: call it through
/// [`off_runtime_unless_short`] or from blocking code.
pub fn count(text: &str) -> i64 {
    O200K
        .get_or_init(|| {
            Bpe::new(
                include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.ranks")),
                include_str!(concat!(env!("OUT_DIR"), "/o200k_base.pattern")),
            )
        })
        .count(text) as i64
}

/// Whether the tables are built: until then a count of any text waits for them.
pub fn is_loaded() -> bool {
    O200K.get().is_some()
}

/// Text up to this many bytes is counted (or rendered) on the task that needs it: that is less
/// work than handing it to a blocking thread and back, two thread wake-ups. Longer text, and
/// the first count, which builds the tables, go to tokio's blocking threads.
pub const INLINE_BYTES: usize = 2_048;

/// Runs `work`, CPU work over `bytes` of text, where it costs least (see [`INLINE_BYTES`]).
pub async fn off_runtime_unless_short<T: Send + 'static>(
    bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if bytes <= INLINE_BYTES && is_loaded() {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await
}

/// Tokens a chat message costs beyond its text (role and separators), as OpenAI documents it.
pub const PER_MESSAGE_OVERHEAD: i64 = 4;

static O200K: OnceLock<Bpe> = OnceLock::new();

/// A byte-pair encoding reduced to counting.
struct Bpe {
    /// Every token's bytes in rank order, each after a one-byte length.
    vocabulary: &'static [u8],
    /// Where each rank's length byte is in `vocabulary`.
    starts: Vec<u32>,
    /// The ranks, found by the hash of their bytes.
    ranks: HashTable<u32>,
    hasher: FxBuildHasher,
    /// Splits text into the pieces BPE works within (words, numbers, runs of spaces…).
    pieces: Regex,
}

/// The bytes of the token whose length byte is at `start`.
fn token_at(vocabulary: &[u8], start: u32) -> &[u8] {
    let start = start as usize;
    &vocabulary[start + 1..start + 1 + usize::from(vocabulary[start])]
}

impl Bpe {
    fn new(vocabulary: &'static [u8], pattern: &str) -> Self {
        let hasher = FxBuildHasher;
        let mut starts = Vec::with_capacity(200_000);
        let mut at = 0;
        while at < vocabulary.len() {
            starts.push(at as u32);
            at += 1 + usize::from(vocabulary[at]);
        }
        let mut ranks = HashTable::with_capacity(starts.len());
        let hash_of = |rank: &u32| hasher.hash_one(token_at(vocabulary, starts[*rank as usize]));
        for rank in 0..starts.len() as u32 {
            ranks.insert_unique(hash_of(&rank), rank, hash_of);
        }
        Self {
            vocabulary,
            starts,
            ranks,
            hasher,
            pieces: Regex::new(pattern).expect("the o200k_base pattern compiles"),
        }
    }

    fn rank(&self, bytes: &[u8]) -> Option<u32> {
        self.ranks
            .find(self.hasher.hash_one(bytes), |rank| {
                token_at(self.vocabulary, self.starts[*rank as usize]) == bytes
            })
            .copied()
    }

    fn count(&self, text: &str) -> usize {
        let mut tokens = 0;
        let mut counted_to = 0;
        for piece in self.pieces.find_iter(text) {
            match piece {
                Ok(piece) => {
                    let bytes = piece.as_str().as_bytes();
                    tokens += match self.rank(bytes).is_some() {
                        true => 1,
                        false => self.merged_parts(bytes),
                    };
                    counted_to = piece.end();
                }
                // The splitter gave up (its backtracking limit, on pathological input): the
                // rest is counted at one token per byte, which no BPE text exceeds.
                Err(_) => return tokens + (text.len() - counted_to),
            }
        }
        tokens
    }

    /// How many tokens `piece` becomes: starting from its single bytes, the adjacent pair
    /// whose joined bytes have the lowest rank is merged (the leftmost among equals), until no
    /// joined pair is a token. A heap of candidate pairs keeps a long piece (a pasted blob with
    /// no spaces) at O(n log n); a pair whose part has changed since is skipped when it comes
    /// off the heap.
    fn merged_parts(&self, piece: &[u8]) -> usize {
        let n = piece.len();
        if n <= 1 {
            return n;
        }
        // Parts are named by their first byte; `next[s]` is where the part at `s` ends (the
        // next part's start), `prev[s]` where the part before it starts.
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|s| s.wrapping_sub(1)).collect();
        // The rank of joining the part at `s` with the one after it, or None.
        let mut pair: Vec<Option<u32>> = vec![None; n];
        let mut heap = BinaryHeap::with_capacity(n);
        for s in 0..n - 1 {
            pair[s] = self.rank(&piece[s..s + 2]);
            if let Some(rank) = pair[s] {
                heap.push(Reverse((rank, s)));
            }
        }
        let mut parts = n;
        while let Some(Reverse((rank, left))) = heap.pop() {
            if pair[left] != Some(rank) {
                continue;
            }
            let right = next[left];
            let after = next[right];
            next[left] = after;
            pair[right] = None;
            if after < n {
                prev[after] = left;
            }
            parts -= 1;
            pair[left] = match after < n {
                true => self.rank(&piece[left..next[after]]),
                false => None,
            };
            if let Some(rank) = pair[left] {
                heap.push(Reverse((rank, left)));
            }
            if left > 0 {
                let before = prev[left];
                pair[before] = self.rank(&piece[before..after]);
                if let Some(rank) = pair[before] {
                    heap.push(Reverse((rank, before)));
                }
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_tokens_with_a_real_bpe() {
        assert_eq!(count(""), 0);
        assert_eq!(count("hello world"), 2);
        assert!(count("Ünïcödé text with 😀 emoji") > 5);
    }

    /// Every count equals tiktoken-rs's own o200k_base, on text of many kinds: prose, code,
    /// scripts other than Latin, emoji, numbers, runs of spaces and newlines, and long pieces
    /// that only the pairwise merging splits (a base64 blob, a repeated letter).
    #[test]
    fn counts_as_tiktoken_does() {
        let reference = tiktoken_rs::o200k_base_singleton();
        let mut texts: Vec<String> = [
            "The quick brown fox jumps over the lazy dog. It's 12:45, isn't it?",
            "fn main() {\n    let x: Vec<u8> = vec![1, 2, 3];\n    println!(\"{x:?}\");\n}\n",
            "Здравствуйте, как дела? 你好，世界！ こんにちは。 مرحبا بالعالم",
            "👩‍👩‍👧‍👦 🏳️‍🌈 ✨🚀✨ ¯\\_(ツ)_/¯",
            "1234567890 3.14159 -42 1e10 0x1F 2026-12-07T15:00:00Z",
            "   leading spaces\n\n\n\ttabs\t\tand   trailing   \r\n\r\n",
            "<|endoftext|> is ordinary text here",
            "supercalifragilisticexpialidocious antidisestablishmentarianism",
            "",
            " ",
            "a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        texts.push("a".repeat(5_000));
        texts.push("ab ".repeat(700));
        texts.push("🙂".repeat(300));
        // Pseudo-random bytes, base64-encoded: one long piece with few known merges.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        texts.push(
            (0..20_000)
                .map(|_| B64[(random() % 64) as usize] as char)
                .collect(),
        );
        // Words and marks drawn at random from a mixed alphabet.
        let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 \n\t.,;:'\"!?()[]{}<>/\\-_=+*&^%$#@~`éüßøñçЖжλπ中文字😀🎉"
            .chars()
            .collect();
        for _ in 0..300 {
            let len = (random() % 400) as usize;
            texts.push(
                (0..len)
                    .map(|_| alphabet[(random() % alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        for text in &texts {
            assert_eq!(
                count(text) as usize,
                reference.encode_ordinary(text).len(),
                "{:?}",
                text.chars().take(80).collect::<String>()
            );
        }
    }
}
