#!/usr/bin/env bash
# The installed package works, not only the source tree (issue 11: the wheel lacked catalog data).
# Builds the wheel from the files git would ship, installs it in a clean venv (dependencies from
# the package index), and from an empty folder runs `chip2chat --version`, `chip2chat plan` and
# the README's first Python example. Exits non-zero on the first failure.
#   PYTHON: the interpreter for the clean venv (default python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS

# a copy of the tree without build outputs: an in-place build would reuse a stale build/lib
mkdir "$tmp/src"
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$tmp/src"
else
  tar --exclude=.venv --exclude=build --exclude=out --exclude='*.egg-info' -cf - . | tar -xf - -C "$tmp/src"
fi

"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip wheel --quiet --no-deps -w "$tmp/dist" "$tmp/src"
"$tmp/venv/bin/python" -m pip install --quiet "$tmp/dist"/chip2chat-*.whl

cd "$tmp"  # outside the source tree: only the installed package can be imported
"$tmp/venv/bin/chip2chat" --version
"$tmp/venv/bin/chip2chat" plan --out "$tmp/plan" > "$tmp/plan.txt"
test -s "$tmp/plan/report.html" && test -s "$tmp/plan/results.csv"
"$tmp/venv/bin/python" -I "$root/scripts/readme_example.py" "$root/README.md"
echo "wheel check: passed in $((SECONDS - start)) s"
