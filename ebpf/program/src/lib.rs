//! Empty library target: `core/build.rs` build-depends on this crate so that cargo rebuilds the
//! eBPF object whenever this crate or its dependencies change. The programs are in `main.rs`.
#![no_std]
