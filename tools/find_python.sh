#!/usr/bin/env bash
# Print the Python 3.13 to build .venv with: the one named (default python3.13) if it is 3.13,
# else pyenv's (a fresh machine may have it only under ~/.pyenv, without pyenv's shims on PATH).
# Lambda runs the app on python3.13 and chalice packages the wheels of the Python that runs it.
set -u
version=3.13
for candidate in "${1:-python$version}" "python$version" \
    "$(pyenv which "python$version" 2>/dev/null)" \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version"*/bin/"python$version" 2>/dev/null | sort -V -r); do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (${version/./, }))" 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
echo "Python $version not found: install it (pyenv install $version, or python.org), or point make at one: make PYTHON=/path/to/python$version" >&2
exit 1
