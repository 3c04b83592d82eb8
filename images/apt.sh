# Sourced by ci/setup and images/fetch: apt with syscord's own source list and state, so that
# bookworm-backports (QEMU 10) and trixie (the riscv64 kernel) are reachable without any
# change to the system's apt sources.
SYSCORD_CACHE="${SYSCORD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/syscord}"
PRIVATE_APT="$SYSCORD_CACHE/apt"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

private_apt_init() {
    mkdir -p "$PRIVATE_APT/lists/partial" "$PRIVATE_APT/archives/partial" "$PRIVATE_APT/etc/parts"
    cat > "$PRIVATE_APT/etc/sources.list" <<LIST
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm main
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm-backports main
deb [arch=riscv64 signed-by=$KEYRING] $MIRROR trixie main
LIST
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
