//! Shared mappings of `BPF_F_MMAPABLE` array maps, and read-only mappings of files.

use std::{
    io,
    os::fd::{AsRawFd, BorrowedFd},
    ptr::NonNull,
};

/// A shared, writable mapping of a BPF map's values.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; all cross-thread access goes through atomics
// or happens from one thread (the drain).
unsafe impl Send for Mapping {}

impl Mapping {
    pub fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mapping> {
        // Shared with the kernel, which writes the records.
        Mapping::map(
            fd,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
        )
    }

    fn map(fd: BorrowedFd<'_>, len: usize, prot: i32, flags: i32) -> io::Result<Mapping> {
        // SAFETY: a new mapping, at an address the kernel chooses, of an open descriptor.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned NULL"))?,
            len,
        })
    }
}

/// A private, read-only mapping of `len` bytes of a file that nothing truncates while it is
/// mapped (a shorter file would make reading past its end a SIGBUS).
pub struct ReadOnlyMapping(Mapping);

// SAFETY: nothing writes the mapping; threads only read it.
unsafe impl Sync for ReadOnlyMapping {}

impl ReadOnlyMapping {
    pub fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<ReadOnlyMapping> {
        Mapping::map(fd, len, libc::PROT_READ, libc::MAP_PRIVATE).map(ReadOnlyMapping)
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `len` mapped, readable bytes, alive as long as self.
        unsafe { std::slice::from_raw_parts(self.0.ptr.as_ptr(), self.0.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping what `new` mapped.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

impl Mapping {
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

/// `n` rounded up to whole pages.
pub fn page_align(n: usize) -> usize {
    let page = 4096usize.max(
        // SAFETY: sysconf has no preconditions.
        unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize,
    );
    n.div_ceil(page) * page
}
