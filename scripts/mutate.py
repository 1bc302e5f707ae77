"""A mutation check: which named, deliberate bugs the fast test layer catches, and by which test.

Each mutation below is a small bug in an important behaviour, given as exact text to replace in one or more
files. The script copies the repository (without .venv and .git) to a temporary folder once, runs the fast
layer there unmutated (it must pass), then applies each mutation in turn to the copy, runs the fast layer
(``pytest -x``: it stops at the first failure), restores the copy and prints a table: each mutation, killed or
survived, and by which test. The real work tree is never written: others may be editing it.

In the copy, ``PYTHONPATH`` puts the copy's ``overlay`` and ``generated`` before the editable install of the
work tree, and the script checks that the package is imported from the copy before it starts. A mutation whose
old text is not found exactly as often as it says is reported as ``not found`` (the code moved: update the
list), never skipped silently.

    scripts/mutate                      # every mutation
    scripts/mutate --list               # the names, and what each breaks
    scripts/mutate -k pagination        # those whose name contains "pagination"
    scripts/mutate --head               # mutate the last commit instead of the work tree as it is

Exits 0 when every mutation is killed, 1 otherwise. Not part of scripts/test: it runs the fast layer once per
mutation (about a minute each for a survivor).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
PYTEST = ["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-o", "console_output_style=classic"]
RUN_LIMIT = 1800  # seconds for one run of the fast layer; pytest-timeout bounds each test well below it
IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", "dist", "build"
)


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` by ``new`` in ``path`` (relative to the repository); ``old`` must occur ``count`` times."""

    path: str
    old: str
    new: str
    count: int = 1


@dataclass(frozen=True)
class Mutation:
    """A named bug: the behaviour it breaks, and its edits (a change to _async/ comes with its _sync/ twin)."""

    name: str
    breaks: str
    edits: tuple[Edit, ...]


def twins(path: str, old: str, new: str, count: int = 1) -> tuple[Edit, ...]:
    """The same edit in ``<folder>/_async/<name>`` and in its generated twin ``<folder>/_sync/<name>``."""
    folder, _, name = path.rpartition("/")
    base = "/".join(filter(None, ("overlay/siliconflow_batch", folder)))
    return (Edit(f"{base}/_async/{name}", old, new, count), Edit(f"{base}/_sync/{name}", old, new, count))


PKG = "overlay/siliconflow_batch"
MUTATIONS: tuple[Mutation, ...] = (
    # --- the (#25) survivors and near-misses --------------------------------------------------------
    Mutation(
        "job-write-results-not-atomic",
        "Job.write_results writes the destination directly: a failure midway leaves a half file",
        twins("_jobs/job.py", "with atomic_write(target) as out:", 'with open(target, "wb") as out:'),
    ),
    Mutation(
        "job-create-in-creating-skips-lookup",
        "after a crash in 'creating', the rerun creates again instead of finding the batch by its key",
        twins("_jobs/engine.py", "look_first=state is ShardState.CREATING,", "look_first=False,"),
    ),
    Mutation(
        "shard-limits-accept-5001-lines",
        "ShardLimits accepts max_shard_lines=5001 (the job is refused later, with a misleading message)",
        (
            Edit(
                f"{PKG}/_jobs/input.py",
                "if not 1 <= self.lines <= MAX_LINES:",
                "if not 1 <= self.lines <= MAX_LINES + 1:",
            ),
        ),
    ),
    Mutation(
        "cli-results-output-not-atomic",
        "the CLI's results --output is written in place: a failure midway leaves a half file",
        (Edit(f"{PKG}/cli/batches.py", "with atomic_write(path) as handle:", 'with open(path, "wb") as handle:'),),
    ),
    Mutation(
        "pagination-cycle-check-off",
        "a server whose cursors loop (a -> b -> c -> a) is paged forever",
        (
            Edit(
                f"{PKG}/_pagination.py",
                "if not self.done and next_after in self.used:",
                "if False and next_after in self.used:",
            ),
        ),
    ),
    Mutation(
        "form-shards-line-limit-off-by-one",
        "form_shards puts max_shard_lines + 1 lines in a shard when the byte limit has room",
        (Edit(f"{PKG}/_jobs/input.py", "shard.lines >= limits.lines", "shard.lines > limits.lines"),),
    ),
    Mutation(
        "classify-expired-is-final",
        "a line that expired with its batch (batch_expired) is counted as failed instead of sent again",
        (
            Edit(
                f"{PKG}/_failures.py",
                '_NOT_DONE = frozenset({str(OVERLOADED_CODE), "batch_expired"})',
                "_NOT_DONE = frozenset({str(OVERLOADED_CODE)})",
            ),
        ),
    ),
    # --- pagination -----------------------------------------------------------------------------------------
    Mutation(
        "pagination-repeat-check-off",
        "a server that ignores the cursor and serves the first page again is not caught as such",
        (Edit(f"{PKG}/_pagination.py", "if page.data[0].id in self.previous_ids:", "if False:"),),
    ),
    # --- retries --------------------------------------------------------------------------------------------
    Mutation(
        "retry-create-after-read-timeout",
        "a create (not idempotent) is sent again after a read timeout or a dropped connection: a duplicate batch",
        (
            Edit(
                f"{PKG}/_retry.py",
                "return failure in (Failure.NOT_SENT, Failure.REPEATABLE)",
                "return failure is not Failure.FINAL",
            ),
        ),
    ),
    Mutation(
        "retry-create-after-504",
        "a create is sent again after a 504, which may hide a batch that was made",
        (
            Edit(
                f"{PKG}/_failures.py",
                "if status in (429, 503):",
                "if status in (429, 503, 504):",
            ),
        ),
    ),
    Mutation(
        "retry-402-on-server-say-so",
        "a 402 (no balance) is retried when x-should-retry says true",
        (Edit(f"{PKG}/_retry.py", "elif response is None or response.status_code == 402:", "elif response is None:"),),
    ),
    Mutation(
        "retry-after-uncapped",
        "a Retry-After of hours is obeyed instead of capped at MAX_RETRY_AFTER",
        (Edit(f"{PKG}/_retry.py", "return min(asked, MAX_RETRY_AFTER)", "return asked"),),
    ),
    Mutation(
        "backoff-uncapped",
        "the exponential backoff grows past MAX_DELAY",
        (
            Edit(
                f"{PKG}/_retry.py",
                "delay = min(INITIAL_DELAY * 2.0**retries_done, MAX_DELAY)",
                "delay = INITIAL_DELAY * 2.0**retries_done",
            ),
        ),
    ),
    # --- idempotent create ----------------------------------------------------------------------------------
    Mutation(
        "create-retry-without-lookup",
        "after an ambiguous failure the create is sent again without looking for the batch by its key",
        twins("batches.py", "failure, look = error, True", "failure, look = error, False"),
    ),
    Mutation(
        "create-lookup-for-a-fresh-key",
        "a create whose key was made for this call is looked up first (a wasted list request per create)",
        twins("batches.py", "look = look_first and chosen", "look = look_first"),
    ),
    Mutation(
        "lookup-matches-any-key",
        "the look-up by idempotency key returns any batch that has a key, not the one with this key",
        (
            Edit(
                f"{PKG}/_batch_logic.py",
                "return metadata_value(batch, IDEMPOTENCY_KEY) == key",
                "return metadata_value(batch, IDEMPOTENCY_KEY) is not None",
            ),
        ),
    ),
    # --- validation -----------------------------------------------------------------------------------------
    Mutation(
        "validate-duplicate-custom-id",
        "a custom_id used twice in one input is accepted",
        (Edit(f"{PKG}/validation.py", "elif custom_id in seen:", "elif False:"),),
    ),
    Mutation(
        "validate-last-message-any-role",
        "messages ending with an assistant turn are accepted",
        (Edit(f"{PKG}/validation.py", 'and last.get("role") != "user":', 'and last.get("role") == "nobody":'),),
    ),
    Mutation(
        "validate-5001-lines",
        "an input of 5,001 requests passes validation",
        (Edit(f"{PKG}/validation.py", "if report.line_count > MAX_LINES:", "if report.line_count > MAX_LINES + 1:"),),
    ),
    Mutation(
        "validate-window-337h",
        "a completion window of 337h (past the vendor's 336h) is accepted",
        (
            Edit(
                f"{PKG}/validation.py",
                "<= int(match.group(1)) <= MAX_WINDOW_HOURS:",
                "<= int(match.group(1)) <= MAX_WINDOW_HOURS + 1:",
            ),
        ),
    ),
    # --- result parsing -------------------------------------------------------------------------------------
    Mutation(
        "parse-batch-any-id",
        "a batch whose id is not a string (a number, null) is accepted instead of raising our error",
        (
            Edit(
                "generated/siliconflow_batch_generated/models/batch.py",
                'v_id = mismatch((f"{path}.id" if path else "id"), "str", v_id)',
                "pass",
                count=2,
            ),
        ),
    ),
    Mutation(
        "results-bom-kept",
        "a result file's UTF-8 byte-order mark breaks its first line",
        (Edit(f"{PKG}/_results.py", "if number == 1 and raw.startswith(_BOM):", "if False:"),),
    ),
    Mutation(
        "results-numeric-custom-id-rejected",
        "a result line whose custom_id the server turned into a number is refused",
        (Edit(f"{PKG}/_results.py", "if type(custom_id) is int:", "if False:"),),
    ),
    Mutation(
        "results-empty-custom-id-accepted",
        'a result line with custom_id "" is read as a result',
        (
            Edit(
                f"{PKG}/_results.py",
                "if type(custom_id) is not str or not custom_id:",
                "if type(custom_id) is not str:",
            ),
        ),
    ),
    Mutation(
        "results-repeated-line-kept",
        "a second result line for one custom_id is kept instead of dropped",
        (Edit(f"{PKG}/_results.py", "if result.custom_id in self._seen:", "if False:"),),
    ),
)


@dataclass
class Outcome:
    """What one run of the fast layer made of a mutation."""

    mutation: Mutation
    verdict: str  # killed, survived, not found, error
    by: str = ""
    seconds: float = 0.0


def copy_tree(head: bool) -> Path:
    """A private copy of the repository: the work tree as it is, or with ``head`` the last commit."""
    target = Path(tempfile.mkdtemp(prefix="sfb-mutate-")) / "repo"
    if head:
        target.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    else:
        shutil.copytree(ROOT, target, ignore=IGNORED, symlinks=True)
    return target


def environment(copy: Path) -> dict[str, str]:
    """The copy's package first on the path; no bytecode (a mutation and its undo may share an mtime)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy / "overlay"), str(copy / "generated")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def check_imports_from(copy: Path) -> None:
    """Stop unless the package the tests import is the copy's (not the work tree's editable install)."""
    probe = "import siliconflow_batch, siliconflow_batch_generated as g; print(siliconflow_batch.__file__, g.__file__)"
    found = subprocess.run(
        [str(PYTHON), "-c", probe], cwd=copy, env=environment(copy), capture_output=True, text=True, check=True
    ).stdout.split()
    if not all(Path(path).is_relative_to(copy) for path in found):
        sys.exit(f"error: the tests would import {found}, not the copy in {copy}")


FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.M)  # a test id may hold spaces


def run_tests(copy: Path, extra: list[str]) -> tuple[bool, str, str]:
    """Run the fast layer in ``copy``: (passed, first failing test id, output)."""
    try:
        done = subprocess.run(
            [str(PYTHON), *PYTEST, *extra],
            cwd=copy,
            env=environment(copy),
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT,
        )
    except subprocess.TimeoutExpired:
        return False, f"(the run took over {RUN_LIMIT} s)", ""
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return True, "", output
    failed = FAILED.search(output)
    return False, failed.group(1) if failed else f"(pytest exit {done.returncode})", output


def apply(copy: Path, mutation: Mutation) -> dict[Path, str] | str:
    """Apply ``mutation`` to ``copy``; return the files' original texts, or why it cannot be applied."""
    originals: dict[Path, str] = {}
    for edit in mutation.edits:
        path = copy / edit.path
        if not path.is_file():
            return f"{edit.path} is missing"
        text = originals.get(path) or path.read_text(encoding="utf-8")
        found = text.count(edit.old)
        if found != edit.count:
            return f"{edit.path}: {edit.old!r} found {found} times, expected {edit.count}"
        originals.setdefault(path, text)
    for edit in mutation.edits:
        path = copy / edit.path
        path.write_text(path.read_text(encoding="utf-8").replace(edit.old, edit.new), encoding="utf-8")
    return originals


def restore(originals: dict[Path, str]) -> None:
    """Put the copy's files back as they were."""
    for path, text in originals.items():
        path.write_text(text, encoding="utf-8")


def table(outcomes: list[Outcome]) -> str:
    """The results as a Markdown table."""
    rows = ["| mutation | result | first failing test | what it breaks |", "| --- | --- | --- | --- |"]
    for outcome in outcomes:
        by = f"`{outcome.by}`" if outcome.by else ""
        rows.append(f"| {outcome.mutation.name} | {outcome.verdict} | {by} | {outcome.mutation.breaks} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-k", dest="select", action="append", default=[], help="only mutations whose name has this")
    parser.add_argument("--list", action="store_true", help="print the mutations and stop")
    parser.add_argument("--head", action="store_true", help="mutate the last commit, not the work tree as it is")
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path is printed)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.select or any(s in m.name for s in args.select)]
    if args.list:
        for mutation in chosen:
            print(f"{mutation.name}: {mutation.breaks}")
        return 0
    if not chosen:
        sys.exit("error: no mutation matches")
    if not PYTHON.exists():
        sys.exit(f"error: {PYTHON} is missing (scripts/mutate sets up .venv)")
    copy = copy_tree(args.head)
    try:
        check_imports_from(copy)
        print(f"copy: {copy}; the unmutated fast layer first...", flush=True)
        passed, by, output = run_tests(copy, args.pytest_args)
        if not passed:
            print(output[-4000:])
            sys.exit(f"error: the fast layer fails without any mutation ({by}): fix that first")
        outcomes = []
        for mutation in chosen:
            started = time.monotonic()
            originals = apply(copy, mutation)
            if isinstance(originals, str):
                outcomes.append(Outcome(mutation, "not found", originals))
            else:
                try:
                    passed, by, _ = run_tests(copy, args.pytest_args)
                finally:
                    restore(originals)
                outcomes.append(Outcome(mutation, "survived" if passed else "killed", by))
            outcomes[-1].seconds = time.monotonic() - started
            print(f"{mutation.name}: {outcomes[-1].verdict} {by} ({outcomes[-1].seconds:.0f} s)", flush=True)
    finally:
        if args.keep:
            print(f"kept: {copy}")
        else:
            shutil.rmtree(copy.parent, ignore_errors=True)
    print()
    print(table(outcomes))
    killed = sum(o.verdict == "killed" for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} killed")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
