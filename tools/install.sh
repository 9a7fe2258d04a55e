#!/usr/bin/env bash
# Installs the test-only npm tools pinned in tools/package-lock.json into tools/node_modules:
# Microsoft's SARIF validator (@microsoft/sarif-multitool) and, with it, the SARIF 2.1.0
# JSON schema. `cargo test` uses them to validate phi-lint's SARIF output (and fails
# without them when CI is set). Needs node and npm; downloads only from the npm registry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm ci --prefix tools --no-audit --no-fund
# The platform package's postinstall only sets the executable bit; do it here too in case
# install scripts are disabled.
for exe in tools/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool; do
  [ -f "$exe" ] && chmod u+x "$exe"
done
echo "SARIF tools installed in tools/node_modules"
