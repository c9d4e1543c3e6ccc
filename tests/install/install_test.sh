#!/usr/bin/env bash
# usage: install_test.sh BUILD_DIR APP_SOURCE SANITIZERS
set -euo pipefail
build=$1
app=$2
sanitize=${3:-none}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

meson install -C "$build" --destdir "$root" --no-rebuild --quiet
pc=$(find "$root" -name weft.pc | head -n 1)
if [ -z "$pc" ]; then
    echo "weft.pc was not installed" >&2
    exit 1
fi
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR="$root"

extra=()
if [ "$sanitize" != "none" ]; then
    extra+=("-fsanitize=$sanitize")
fi
# shellcheck disable=SC2046 # pkg-config output is meant to split into words
g++ -std=c++20 -Wall -Wextra -Werror "${extra[@]}" "$app" $(pkg-config --cflags --libs weft) \
    -o "$root/app"
LD_LIBRARY_PATH="$(dirname "$(find "$root" -name 'libweft.*' | head -n 1)")" "$root/app"
