#!/usr/bin/env bash
# tests/glibc_check.sh MAX NAME=BINARY... — fail when a binary needs a glibc newer than MAX.
#
# Lambda's provided.al2023 runtime has glibc 2.34: a bootstrap linked against a newer
# glibc symbol version fails at cold start ("version `GLIBC_2.xx' not found"). For each
# binary, `objdump -T` lists the versioned dynamic symbols; the highest GLIBC_x.y is the
# glibc it needs. Prints one line per binary: NAME, that version, the symbols needing it.
# Exit status 1 when any binary needs more than MAX (or cannot be read), 2 on bad usage.
set -euo pipefail

if [[ $# -lt 2 || ! "$1" =~ ^[0-9]+\.[0-9]+$ ]]; then
    echo "usage: $0 MAX_GLIBC_VERSION NAME=BINARY..." >&2
    exit 2
fi
max="$1"
shift
command -v objdump >/dev/null 2>&1 || { echo "glibc_check: objdump not found (binutils)" >&2; exit 2; }

bad=0
for arg in "$@"; do
    name="${arg%%=*}"
    bin="${arg#*=}"
    if [[ ! -f "$bin" ]]; then
        echo "FAIL - $name: no such file $bin"
        bad=1
        continue
    fi
    if ! symbols="$(objdump -T -- "$bin" 2>&1)"; then
        echo "FAIL - $name: objdump -T failed: $symbols"
        bad=1
        continue
    fi
    versions="$(grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' <<<"$symbols" | sed 's/^GLIBC_//' | sort -uV || true)"
    if [[ -z "$versions" ]]; then
        # A dynamic executable with no versioned glibc symbol is not what cargo makes for
        # *-linux-gnu; do not pass it unexamined.
        echo "FAIL - $name: no GLIBC_x.y symbol version in objdump -T (not a glibc binary?)"
        bad=1
        continue
    fi
    highest="$(tail -n1 <<<"$versions")"
    needing="$(grep -F "(GLIBC_$highest)" <<<"$symbols" | awk '{print $NF}' | sort -u)"
    count="$(wc -l <<<"$needing")"
    needing="$(head -n3 <<<"$needing" | paste -sd' ')$( ((count > 3)) && echo " +$((count - 3)) more")"
    # highest <= max  <=>  the smaller of the two (version order) is highest
    if [[ "$(printf '%s\n%s\n' "$highest" "$max" | sort -V | head -n1)" == "$highest" ]]; then
        echo "ok   - $name: needs GLIBC_$highest (<= $max; $(wc -c <"$bin") bytes; GLIBC_$highest symbols: $needing)"
    else
        echo "FAIL - $name: needs GLIBC_$highest > $max (symbols: $needing)"
        bad=1
    fi
done
exit "$bad"
