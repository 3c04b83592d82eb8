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

# matrix_cells [ARCH | ARCH/CELL ...]: the cells of the kernel matrix (images/kernels) the
# arguments name, one ARCH/CELL a line: all of them without arguments, an architecture's
# with ARCH alone. An unknown name is an error.
matrix_cells() {
    local table
    table="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/images/kernels"
    local all
    all=$(awk '!/^#/ && NF { print $1 "/" $2 }' "$table")
    [ $# -gt 0 ] || { echo "$all"; return; }
    local want found
    for want in "$@"; do
        found=$(grep -E "^${want//./\\.}(/|$)" <<<"$all" || true)
        [ -n "$found" ] || { echo "no cell '$want' in images/kernels" >&2; return 2; }
        echo "$found"
    done
}

# rotating_cells N: the cells run number N boots, one per architecture, N-th in the table's
# order (modulo the architecture's count), so that consecutive numbers cover every cell.
rotating_cells() {
    local arch cells
    for arch in "${ARCHS[@]}"; do
        mapfile -t cells < <(matrix_cells "$arch")
        echo "${cells[$(($1 % ${#cells[@]}))]}"
    done
}
