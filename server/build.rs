//! Writes the `o200k_base` vocabulary into `OUT_DIR` in the compact form `chat::tokenizer`
//! reads at run time: each token's bytes, in rank order, after a one-byte length. tiktoken-rs
//! holds the vocabulary three times over in maps of small vectors (about 50 MB once loaded);
//! the server only counts, so it keeps one map of slices into this blob (see the module).

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let bpe = tiktoken_rs::o200k_base().expect("tiktoken-rs ships o200k_base");
    let mut blob = Vec::with_capacity(2_000_000);
    let mut rank: u32 = 0;
    // The ordinary tokens are ranks 0, 1, 2, … without a gap; the special ones come after a
    // gap and are never counted (the server encodes ordinary text only).
    while let Ok(bytes) = bpe.decode_bytes(&[rank]) {
        let len = u8::try_from(bytes.len()).expect("a token is shorter than 256 bytes");
        blob.push(len);
        blob.extend_from_slice(&bytes);
        rank += 1;
    }
    assert_eq!(rank, 199_998, "o200k_base has 199,998 ordinary tokens");
    fs::write(out.join("o200k_base.ranks"), &blob).expect("OUT_DIR is writable");
    fs::write(
        out.join("o200k_base.pattern"),
        tiktoken_rs::O200K_BASE_PAT_STR,
    )
    .expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}
