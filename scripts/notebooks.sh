#!/usr/bin/env bash
# Executes the analyst notebooks headless, top to bottom, and fails if any
# cell fails.
#
#   scripts/notebooks.sh                       # every notebooks/*.ipynb
#   scripts/notebooks.sh notebooks/x.ipynb     # only these
#   CHURN_NOTEBOOKS_OUT=DIR scripts/notebooks.sh   # keep the executed copies in DIR
#   scripts/notebooks.sh --clear [NOTEBOOK...]  # strip outputs before committing
#
# Notebooks are committed with outputs cleared: a notebook that holds outputs,
# execution counts or execution timings counts as failed (fix it with --clear).
#
# Needs Debian's python3-pandas python3-matplotlib python3-sklearn
# python3-xgboost python3-nbconvert python3-ipykernel (run with /usr/bin/python3)
# and a Go toolchain. Each notebook simulates its own data in a scratch folder.
# Everything is written under one temporary folder that is removed at exit;
# nothing is written into the repository. The last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH="$PATH:/usr/local/go/bin"
py=${CHURN_PYTHON:-/usr/bin/python3}

if ! "$py" -c 'import nbconvert, ipykernel, pandas, matplotlib, sklearn, xgboost' 2>/dev/null; then
	echo "notebooks: $py lacks nbconvert, ipykernel, pandas, matplotlib, sklearn or xgboost;" >&2
	echo "  apt-get install -y python3-pandas python3-matplotlib python3-sklearn python3-xgboost python3-nbconvert python3-ipykernel" >&2
	exit 2
fi

clear=0
if [ "${1:-}" = "--clear" ]; then
	clear=1
	shift
fi
if [ $# -gt 0 ]; then
	notebooks=("$@")
else
	shopt -s nullglob
	notebooks=(notebooks/*.ipynb)
fi
if [ ${#notebooks[@]} -eq 0 ]; then
	echo "notebooks: no notebooks found" >&2
	exit 2
fi

# strip.py [--check] NOTEBOOK...: with --check, names the notebooks that are
# not cleared and exits 1; without, clears them in place.
strip_py='
import sys, nbformat
check = sys.argv[1] == "--check"
dirty = []
for path in sys.argv[2:]:
    nb = nbformat.read(path, as_version=4)
    ran = any(c.get("outputs") or c.get("execution_count") is not None or "execution" in c.metadata
              for c in nb.cells)
    if check:
        if ran:
            dirty.append(path)
        continue
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
        for key in ("execution", "collapsed", "scrolled"):
            c.metadata.pop(key, None)
    # Interpreter details that a run fills in: keep diffs free of them.
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    print("cleared" if ran else "unchanged", path)
if dirty:
    print("\n".join(dirty))
    sys.exit(1)
'
if [ "$clear" = 1 ]; then
	exec "$py" -c "$strip_py" --clear "${notebooks[@]}"
fi

tmp=$(mktemp -d -t churn-notebooks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out" "$tmp/tmp" "$tmp/jupyter" "$tmp/ipython" "$tmp/mpl"
# Keep the kernel's scratch folders, connection files and caches in $tmp.
export TMPDIR="$tmp/tmp" JUPYTER_RUNTIME_DIR="$tmp/jupyter" IPYTHONDIR="$tmp/ipython" \
	MPLCONFIGDIR="$tmp/mpl" PYTHONDONTWRITEBYTECODE=1 PYDEVD_DISABLE_FILE_VALIDATION=1 \
	CHURN_REPO="$repo"

echo "== building churnctl"
if ! go build -o "$tmp/churnctl" ./cmd/churnctl; then
	echo "notebooks: go build ./cmd/churnctl failed" >&2
	echo "0 passed, ${#notebooks[@]} failed"
	exit 1
fi
export CHURN_CTL="$tmp/churnctl"

passed=0
failed=0
for nb in "${notebooks[@]}"; do
	name=$(basename "$nb")
	echo "== $name"
	start=$(date +%s)
	if ! "$py" -c "$strip_py" --check "$nb" >/dev/null; then
		failed=$((failed + 1))
		echo "FAIL $name: committed with outputs; run scripts/notebooks.sh --clear $nb"
		continue
	fi
	if "$py" -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 \
		--output-dir "$tmp/out" "$nb" >"$tmp/log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $name ($(($(date +%s) - start))s)"
	else
		failed=$((failed + 1))
		# nbconvert's own traceback is noise: show from the failing cell on,
		# without the terminal colour codes.
		if grep -q CellExecutionError "$tmp/log"; then
			sed -n '/^nbclient.exceptions.CellExecutionError/,$p' "$tmp/log" | tail -n 80
		else
			tail -n 80 "$tmp/log"
		fi | sed 's/\x1b\[[0-9;]*m//g'
		echo "FAIL $name ($(($(date +%s) - start))s)"
	fi
	rm -rf "${tmp:?}/tmp/"*
	if [ -n "${CHURN_NOTEBOOKS_OUT:-}" ] && [ -f "$tmp/out/$name" ]; then
		mkdir -p "$CHURN_NOTEBOOKS_OUT" && cp "$tmp/out/$name" "$CHURN_NOTEBOOKS_OUT/"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
