//! The crate's integration tests, in one test binary (one link of typst
//! instead of one per file).

mod letters;
mod tabular;
