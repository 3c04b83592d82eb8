# Sourced by ci/setup and images/fetch: apt with syscord's own source lists and state, so
# that Debian suites other than the host's are reachable without any change to the system's
# apt sources. Two sets, each with its own state under $SYSCORD_CACHE:
#   host    (apt/): bookworm-backports (QEMU 10) and the riscv64 trixie list (linux-libc-dev),
#           installed from with `-t`; no newer amd64 suite, so nothing pulls a trixie library
#           into the Debian 12 host.
#   guests  (apt-guests/): every suite the kernel matrix (images/kernels) names, only ever
#           downloaded from, never installed from.
SYSCORD_CACHE="${SYSCORD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/syscord}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
APT_SET=host
PRIVATE_APT="$SYSCORD_CACHE/apt"

# private_apt_use host|guests: the set the functions below work on.
private_apt_use() {
    APT_SET=$1
    case $1 in
        host) PRIVATE_APT="$SYSCORD_CACHE/apt" ;;
        guests) PRIVATE_APT="$SYSCORD_CACHE/apt-guests" ;;
        *) echo "apt.sh: unknown source set $1" >&2; return 2 ;;
    esac
}

private_apt_sources() {
    case $APT_SET in
        host) cat <<LIST
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm main
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm-backports main
deb [arch=riscv64 signed-by=$KEYRING] $MIRROR trixie main
LIST
            ;;
        guests)
            local suite
            for suite in $(awk '!/^#/ && NF { print $3 }' "$(dirname "${BASH_SOURCE[0]}")/kernels" \
                | tr , '\n' | sort -u); do
                echo "deb [arch=amd64,arm64,riscv64 signed-by=$KEYRING] $MIRROR $suite main"
            done
            ;;
    esac
}

private_apt_init() {
    mkdir -p "$PRIVATE_APT/lists/partial" "$PRIVATE_APT/archives/partial" "$PRIVATE_APT/etc/parts"
    private_apt_sources > "$PRIVATE_APT/etc/sources.list.new"
    # A changed list (a suite added to the matrix) needs a fresh update.
    if ! cmp -s "$PRIVATE_APT/etc/sources.list.new" "$PRIVATE_APT/etc/sources.list"; then
        rm -f "$PRIVATE_APT/lists/.updated"
    fi
    mv "$PRIVATE_APT/etc/sources.list.new" "$PRIVATE_APT/etc/sources.list"
}

# private_apt ARCHES apt-get-arguments...   (ARCHES: comma-separated, host first)
private_apt() {
    local arches=$1
    shift
    local opts=(
        -o "Dir::Etc::SourceList=$PRIVATE_APT/etc/sources.list"
        -o "Dir::Etc::SourceParts=$PRIVATE_APT/etc/parts"
        -o "Dir::State::Lists=$PRIVATE_APT/lists"
        -o "Dir::Cache::Archives=$PRIVATE_APT/archives"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Architecture=amd64"
        -o "APT::Sandbox::User=root"
    )
    local a
    for a in ${arches//,/ }; do
        opts+=(-o "APT::Architectures::=$a")
    done
    "${APT_BIN:-apt-get}" "${opts[@]}" "$@"
}

# Refreshes the private lists when they are missing or older than a day.
private_apt_update() {
    private_apt_init
    local stamp="$PRIVATE_APT/lists/.updated"
    if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
        private_apt amd64,arm64,riscv64 -qq update
        touch "$stamp"
    fi
}
