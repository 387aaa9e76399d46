#!/bin/bash
# format.sh: kernel style by .clang-format over the C sources (-n: only check)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(-i)
[ "${1:-}" = -n ] && mode=(--dry-run -Werror)
git ls-files '*.c' '*.h' | xargs clang-format "${mode[@]}"
