# Facts the ci/ and images/ scripts share, sourced by them (not run).

# The architectures syscord records on; syscord_arch::Arch::ALL is the same list in Rust.
ARCHS=(x86_64 aarch64 riscv64)

# The Rust target syscord's static binary for an architecture is built for.
triple() {
    case ${1:-} in
        x86_64) echo x86_64-unknown-linux-musl ;;
        aarch64) echo aarch64-unknown-linux-musl ;;
        riscv64) echo riscv64gc-unknown-linux-gnu ;;
        *) echo "unknown architecture '${1:-}' (${ARCHS[*]})" >&2; return 2 ;;
    esac
}

# The nightly the eBPF program builds with, pinned in core/build.rs (where aya-build reads it).
ebpf_nightly() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    sed -n 's/^const EBPF_TOOLCHAIN: &str = "\(.*\)";/\1/p' "$root/core/build.rs"
}
