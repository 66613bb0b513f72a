# Sourced by the scripts that build test images from Debian packages. The caller sets $debs (where
# the .deb files are kept, so that a rebuild needs no network), $log, and a fail function.
# Packages are downloaded with `apt-get download` and never installed.

# A machine whose package lists were never fetched knows no versions yet: fetch them once
# (root only, as tests/run does) and try again.
updated=no
update_lists() {
    [ "$updated" = no ] && [ "$(id -u)" -eq 0 ] || return 1
    updated=yes
    apt-get update -qq >>"$log" 2>&1
}

# Prints the path of the newest .deb of package $1 in $debs, downloading it if there is none.
download() {
    if [ -z "$(find "$debs" -maxdepth 1 -name "${1}_*.deb")" ]; then
        # As root, apt warns that its _apt user cannot write here, and downloads as root.
        (cd "$debs" && apt-get download "$1") >>"$log" 2>&1 \
            || { update_lists && (cd "$debs" && apt-get download "$1") >>"$log" 2>&1; } \
            || fail "apt-get download $1 failed"
    fi
    find "$debs" -maxdepth 1 -name "${1}_*.deb" | sort | tail -1
}
