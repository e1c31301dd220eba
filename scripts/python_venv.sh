#!/usr/bin/env bash
# Makes sure the virtualenv VENV exists and imports MODULES (comma-separated), installing PACKAGES
# from PyPI into it when it does not. Exits 0 when the virtualenv is ready, 3 (after pip's error)
# when PyPI cannot provide the packages, so an opt-in make target can skip with that reason.
#   scripts/python_venv.sh VENV MODULES PACKAGE...
set -u
venv=${1:?usage: scripts/python_venv.sh VENV MODULES PACKAGE...} modules=${2:?}
shift 2
imports="import ${modules//,/, }"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$imports" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv" || exit 3
"$venv/bin/pip" install --quiet --disable-pip-version-check "$@" || exit 3
"$venv/bin/python" -c "$imports" || exit 3
