# Sourced by the scripts in this folder: make sure .venv exists and holds the project with its dev tools.
# Reinstalls when pyproject.toml changes (the stamp holds its hash), so a fresh clone needs nothing by hand.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Install the project with EXTRAS into .venv unless a stamp among STAMPS already holds pyproject.toml's hash;
# then write the first stamp. One implementation for the checks' full install and the demo's small one.
_install_venv() {
    local extras="$1" what="$2" log="$3"; shift 3
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1))" >&2
        exit 2
    fi
    local want stamp
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    for stamp in "$@"; do
        if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
            return 0
        fi
    done
    echo "setting up .venv (one time: $what)..." >&2
    [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$ROOT[$extras]" >"$log" 2>&1; then
        echo "error: installing the project into .venv failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    echo "$want" > "$1"
}

ensure_venv() {
    _install_venv "dev,bench" "installs the project and its pinned dev tools" "$VENV/install.log" "$VENV/.installed"
}

# What the demo needs: the package and its emulator extra, not the dev tools (a first run of the demo installs a
# few packages, not the ~90 that the checks need). A .venv with the full install is used as it is; ensure_venv
# later adds the dev tools to a demo's .venv (its stamp is written only by a full install).
ensure_demo_venv() {
    _install_venv "emulator" "the package and its emulator extra, for the demo" "$VENV/install-demo.log" \
        "$VENV/.installed-demo" "$VENV/.installed"
}

# npm installs Prism for the contract tests (scripts/mock). Installed from Debian's packages when missing and
# this user may (root, as on CI); otherwise the run stops here saying what to install.
ensure_npm() {
    command -v npm >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing npm from Debian's packages (one time, for the Prism contract tests)..." >&2
        local log="$VENV/apt.log"
        if (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm) >"$log" 2>&1 \
            && command -v npm >/dev/null 2>&1; then
            return 0
        fi
        echo "error: installing npm failed; the end of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    echo "error: npm is needed for the Prism contract tests: install Node.js and npm (apt-get install npm)," >&2
    echo "       or run pytest with SILICONFLOW_SKIP_CONTRACT=1 to skip them knowingly" >&2
    exit 1
}

# The Airflow layer's own environment (.venv-airflow): apache-airflow 3 is ~150 packages that neither the fast
# layer nor the demo should carry. Pinned here; reinstalled (quickly, into the same folder) when pyproject.toml
# or these pins change, created from nothing on a fresh clone.
AIRFLOW_VENV="$ROOT/.venv-airflow"
AIRFLOW_PINS=("apache-airflow==3.3.2" "pytest==9.2.0" "pytest-xdist==3.8.0" "pytest-timeout==2.4.0")
ensure_airflow_venv() {
    local python="${PYTHON:-python3}" want stamp="$AIRFLOW_VENV/.installed" log="$AIRFLOW_VENV/install.log"
    want="$( (cat "$ROOT/pyproject.toml"; echo "${AIRFLOW_PINS[*]}") | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$AIRFLOW_VENV/bin/python" ]; then
        return 0
    fi
    echo "setting up .venv-airflow (one time: apache-airflow and the project's airflow extra)..." >&2
    [ -x "$AIRFLOW_VENV/bin/python" ] || "$python" -m venv "$AIRFLOW_VENV"
    if ! "$AIRFLOW_VENV/bin/python" -m pip install --disable-pip-version-check \
        -e "$ROOT[airflow,emulator]" "${AIRFLOW_PINS[@]}" >"$log" 2>&1; then
        echo "error: installing the project into .venv-airflow failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
}
