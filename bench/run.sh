#!/usr/bin/env bash
# phi-lint benchmark: phi-lint vs the ripgrep floor, ast-grep and semgrep, in one session.
#
# usage: bench/run.sh [--quick] DENSE_TREE SPARSE_TREE
#   PHI_LINT=path/to/phi-lint (default: target/release/phi-lint)
#   RUNS=N (default 5; semgrep SEMGREP_RUNS, default 1), OUT=dir for raw hyperfine JSON (default /tmp/phi-lint-bench)
#   PARTS="tools scale staged" (default: all three; the table covers whatever OUT holds),
#   SKIP_SEMGREP=1, SCALE_RUNS=N (default 1: the 4x tree takes minutes per run).
# Needs: hyperfine, rg, ast-grep (pip install ast-grep-cli), semgrep (pip install semgrep),
# python3 >= 3.11, GNU time (/usr/bin/time). Trees must live outside the repository.
# Prints a Markdown table of medians, ratios and peak RSS.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
bin="${PHI_LINT:-$repo/target/release/phi-lint}"
bin="$(realpath "$bin")"
runs="${RUNS:-5}"
out="${OUT:-/tmp/phi-lint-bench}"
dense="$(realpath "$1")"
sparse="$(realpath "$2")"
mkdir -p "$out"
export SEMGREP_ENABLE_VERSION_CHECK=0 SEMGREP_SEND_METRICS=off

# The ripgrep floor: every keyword of every rule, on the file types phi-lint reads.
python3 - "$repo/rules" > "$out/keywords.txt" <<'PY'
import sys, tomllib, pathlib
kw = set()
for p in pathlib.Path(sys.argv[1]).rglob("*.toml"):
    if p.name == "knowledge.toml":
        continue
    d = tomllib.loads(p.read_text())
    kw.update(d.get("keywords", []))
    kw.update(d.get("keywords-all", []))
print("\n".join(sorted(kw)))
PY
globs=(-g '*.{py,pyi,js,mjs,cjs,jsx,ts,mts,cts,tsx,cs,java,go,rs,yaml,yml,json,jsonc,toml,ini,cfg,properties,tf,hcl,tfvars,bicep,bicepparam,ipynb,env}' -g '.env*' -g '*ockerfile*')

phi() { echo "$bin check --format json --exit-zero --quiet $1"; }
rgc() { echo "rg --no-messages --hidden -g '!.git' -i -F -c -f $out/keywords.txt ${globs[*]} $1"; }
sgc() { echo "ast-grep scan -c $here/ast-grep/sgconfig.yml --json=compact $1"; }
smc() { echo "semgrep scan --metrics=off --disable-version-check --oss-only -j 2 --config $here/semgrep/rules.yml --json -q $1"; }

hf() { # name runs command...
    local name="$1" n="$2"; shift 2
    hyperfine -N --warmup 1 --runs "$n" --ignore-failure --export-json "$out/$name.json" "$@" > /dev/null 2>&1 ||
        hyperfine --warmup 1 --runs "$n" --ignore-failure --export-json "$out/$name.json" "$@" > /dev/null
}
rss() { # name command: peak RSS in KB (and, for one-shot tools, the wall and CPU time)
    /usr/bin/time -v bash -c "$2 > /dev/null 2>&1" 2> "$out/$1.time" || true
    grep 'Maximum resident' "$out/$1.time" | awk '{print $NF}' > "$out/$1.rss"
}

parts="${PARTS:-tools scale staged}"
has() { [[ " $parts " == *" $1 "* ]]; }

has tools && for t in dense sparse; do
    tree="${!t}"
    cd "$tree"
    echo "== $t: $tree" >&2
    hf "$t-phi" "$runs" "$(phi .)"
    hf "$t-rg" "$runs" "$(rgc .)"
    hf "$t-astgrep" "$runs" "$(sgc .)"
    rss "$t-phi" "$(phi .)"
    rss "$t-rg" "$(rgc .)"
    rss "$t-astgrep" "$(sgc .)"
    if [ -z "${SKIP_SEMGREP:-}" ]; then
        # semgrep takes minutes per run here: SEMGREP_RUNS runs (default 1), no warm-up.
        hyperfine --runs "${SEMGREP_RUNS:-1}" --ignore-failure --export-json "$out/$t-semgrep.json" "$(smc .)" > /dev/null
        rss "$t-semgrep" "$(smc .)"
    fi
done

if has scale; then
    # Growth: 1x, 2x, 4x hard-linked copies of the dense tree.
    scale="$(dirname "$dense")/scale"
    for k in 1 2 4; do
        d="$scale/x$k"
        if [ ! -d "$d" ]; then
            mkdir -p "$d"
            for i in $(seq 1 "$k"); do cp -al "$dense" "$d/copy$i"; done
        fi
        cd "$d"
        hyperfine -N --runs "${SCALE_RUNS:-1}" --export-json "$out/scale-x$k.json" "$(phi .)" > /dev/null
        rss "scale-x$k" "$(phi .)"
    done
fi

if has staged; then
    # Pre-commit: five staged files in a git copy of the dense tree.
    g="$(dirname "$dense")/staged-repo"
    if [ ! -d "$g/.git" ]; then
        rm -rf "$g"
        cp -al "$dense" "$g"
        (cd "$g" && git init -q && git add -A && git -c user.email=b@b -c user.name=b commit -qm base --no-verify)
    fi
    cd "$g"
    git reset -q
    mapfile -t five < <(git ls-files '*.py' '*.ts' '*.cs' | grep -i openai | head -5)
    for f in "${five[@]}"; do
        cp --remove-destination "$f" "$f.tmp" && mv "$f.tmp" "$f" && echo "// staged edit" >> "$f"
    done
    git add -- "${five[@]}"
    hf staged 20 "$bin check --staged --format json --exit-zero --quiet"
    rss staged "$bin check --staged --format json --exit-zero --quiet"
    hf rules-list 20 "$bin rules"
    git checkout -q HEAD -- "${five[@]}"
fi

python3 - "$out" <<'PY'
import json, sys, os, statistics
out = sys.argv[1]
def med(n):
    p = os.path.join(out, n + ".json")
    if not os.path.exists(p):
        return None
    return statistics.median(json.load(open(p))["results"][0]["times"])
def cpu(n):
    p = os.path.join(out, n + ".json")
    if not os.path.exists(p):
        return None
    r = json.load(open(p))["results"][0]
    return r["user"] + r["system"]
def rss(n):
    p = os.path.join(out, n + ".rss")
    try:
        return int(open(p).read().strip()) / 1024
    except Exception:
        return None
f = lambda x, u="s": "-" if x is None else (f"{x*1000:.1f} ms" if u == "ms" else f"{x:.3f} s")
m = lambda x: "-" if x is None else f"{x:.0f} MB"
print("| tree | tool | median wall | wall ratio to phi-lint | mean CPU (user+sys) | CPU ratio to phi-lint | peak RSS |")
print("|---|---|---|---|---|---|---|")
for t in ("dense", "sparse"):
    p = med(f"{t}-phi")
    pc = cpu(f"{t}-phi")
    for tool, name in (("phi", "phi-lint"), ("rg", "ripgrep floor"), ("astgrep", "ast-grep"), ("semgrep", "semgrep")):
        x = med(f"{t}-{tool}")
        if x is None:
            continue
        c = cpu(f"{t}-{tool}")
        print(f"| {t} | {name} | {f(x)} | {x/p:.2f}× | {f(c)} | {c/pc:.2f}× | {m(rss(f'{t}-{tool}'))} |")
for k in (1, 2, 4):
    x = med(f"scale-x{k}")
    if x is not None:
        print(f"| dense ×{k} | phi-lint | {f(x)} | {x/med('scale-x1'):.2f}× of ×1 | {f(cpu(f'scale-x{k}'))} | {cpu(f'scale-x{k}')/cpu('scale-x1'):.2f}× of ×1 | {m(rss(f'scale-x{k}'))} |")
x = med("staged")
if x is not None:
    print(f"| dense, git | phi-lint --staged (5 files) | {f(x, 'ms')} | | {f(cpu('staged'), 'ms')} | | {m(rss('staged'))} |")
x = med("rules-list")
if x is not None:
    print(f"| - | phi-lint rules (startup) | {f(x, 'ms')} | | {f(cpu('rules-list'), 'ms')} | | |")
PY
