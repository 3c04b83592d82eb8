//! Errors users see: one line on stderr that says what is wrong and what to do.

use std::{io, path::PathBuf};

use thiserror::Error;

use syscord_recording::format::FormatError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Error)]
pub enum Error {
    #[error(
        "{0}: syscord needs root, or the capabilities CAP_BPF and CAP_PERFMON (try: sudo syscord ...)"
    )]
    NotPrivileged(String),
    #[error(
        "this kernel has no usable BTF ({0}); syscord needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
    )]
    NoBtf(String),
    #[error("unsupported kernel: {0}")]
    Unsupported(String),
    #[error("command not found: {0}")]
    CommandNotFound(String),
    #[error("cannot run {command}: {source}")]
    Exec { command: String, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Output { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Input { path: PathBuf, source: FormatError },
    #[error("loading the eBPF programs failed: {0}")]
    Load(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("internal error: {0}")]
    Internal(&'static str),
    #[error("internal error in the syscall handlers: {0}")]
    Handlers(String),
}

impl Error {
    /// Classifies an aya error: EPERM anywhere in its chain means missing privileges, which
    /// deserves its own message. (EACCES is not one: it is how the verifier rejects a
    /// program.)
    pub fn from_load(e: BoxError) -> Error {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<io::Error>()
                && io.raw_os_error() == Some(libc::EPERM)
            {
                return Error::NotPrivileged(format!("loading eBPF: {io}"));
            }
            source = s.source();
        }
        Error::Load(chain(e.as_ref()))
    }
}

/// "outer: inner: innermost", skipping repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
