#!/usr/bin/env bash
# Lays out the two benchmark trees at the pinned commits (bench/README.md) under DEST:
# DEST/dense/<repo> and DEST/sparse/<repo>. Keep DEST outside the repository.
#
# usage: bench/trees.sh DEST [MIRRORS]
#   MIRRORS: a folder of bare git directories named <owner>+<repo>/repo (exported with
#   export-tree, no network); without it each repository is fetched at its commit with git.
set -euo pipefail
dest="$1"
mirrors="${2:-}"
while read -r kind repo commit; do
    name="${repo#*/}"
    out="$dest/$kind/$name"
    [ -d "$out" ] && continue
    mkdir -p "$out"
    if [ -n "$mirrors" ]; then
        "${EXPORT_TREE:-export-tree}" "$mirrors/${repo/\//+}/repo" "$out" "$commit"
    else
        git -C "$out" init -q
        git -C "$out" fetch -q --depth 1 "https://github.com/$repo" "$commit"
        git -C "$out" checkout -q FETCH_HEAD
        rm -rf "$out/.git"
    fi
done <<'LIST'
dense microsoft/semantic-kernel b39d95a34435f4c1d55dd00c86120ce118d847e1
dense vercel/ai ed857f50f112e23930b0c2dd8d532cc8bebbc911
dense langchain-ai/langchainjs 62fc484b2a0d1ec5b8bebff4a8a0efe6300ada72
dense openai/openai-dotnet b3b4bbbc31cebef0f4978071d586856360173c89
dense openai/openai-java 5f499c32eb4357e2552d9f97697d63eddbc6069b
dense openai/openai-go 4e5a07a6a205761650d73593fe75cd79ea7a25ec
sparse eslint/eslint c27bc926e496985eb7911c09eb60914b2e4b5d0f
sparse bridgecrewio/checkov 03d5fdad8d6154b1565799a7b1fb8070c158866f
sparse astral-sh/ruff fca5c7cf2cd2f8338f18b9485f936b8e9f07bd0b
sparse oxc-project/oxc 288f9a5188b9409cd0dfa34c25a0419e5eb8443b
LIST
