# Sourced by the scripts in this folder: make sure .venv exists and holds the project with its dev tools.
# Reinstalls when pyproject.toml changes (the stamp holds its hash), so a fresh clone needs nothing by hand.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

ensure_venv() {
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1))" >&2
        exit 2
    fi
    local stamp="$VENV/.installed" want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
        return 0
    fi
    echo "setting up .venv (one time: installs the project and its pinned dev tools)..." >&2
    [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
    local log="$VENV/install.log"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$ROOT[dev,bench]" >"$log" 2>&1; then
        echo "error: installing the project into .venv failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
}
