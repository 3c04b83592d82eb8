//! syscord's record files, without the recorder: the file format (written by the recorder,
//! read by everything else), the kernel records' decoding, rotated recordings read as one,
//! and the reading commands `dump` and `stats`. It needs no kernel, no BTF and no rings, so
//! that a recording can be read on any machine, and every reader (the fuzz target among
//! them) depends on this crate alone.

pub mod dump;
pub mod format;
pub mod parts;
pub mod reorder;
pub mod stats;
