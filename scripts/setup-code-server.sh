#!/usr/bin/env bash
# Finishes the install of the e2e test tier's VS Code (code-server, a devDependency) after
# `npm ci --ignore-scripts` / `npm install --ignore-scripts`, with no network beyond the npm
# registry. It stands in for node_modules/code-server/postinstall.sh, which as root refuses
# to run without --unsafe-perm and downloads ripgrep from GitHub.
# Recipe and pitfalls: ../shared/notes/vscode-e2e.md.
#
#     bash scripts/setup-code-server.sh          # or: npm run setup:e2e
#     bash scripts/setup-code-server.sh --force  # redo every step
#
# Idempotent: every step may run again; a stamp in test/e2e/tools/node_modules/code-server skips them all
# once setup succeeded (a fresh `npm ci` removes the stamp with node_modules).
# Needs (Debian): apt-get install -y chromium libkrb5-dev ripgrep python3 make g++
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/test/e2e/tools"
CS="$TOOLS/node_modules/code-server"
VS="$CS/lib/vscode"
STAMP="$CS/.msif-e2e-setup"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

die() { echo "setup-code-server: $*" >&2; exit 1; }
# code-server and vsce live in their own package (test/e2e/tools), installed with scripts
# off: code-server's postinstall fails as root and downloads from GitHub.
if [ ! -d "$VS" ] || [ "$FORCE" = 1 ]; then
  (cd "$TOOLS" && npm ci --ignore-scripts --no-audit --no-fund) || die "npm ci in test/e2e/tools failed"
fi
[ -d "$VS" ] || die "test/e2e/tools/node_modules/code-server missing after npm ci"
RG="$(command -v rg || true)"
[ -n "$RG" ] || die "ripgrep missing: apt-get install -y ripgrep"
command -v krb5-config >/dev/null || die "libkrb5-dev missing (kerberos build): apt-get install -y libkrb5-dev"
[ -x /usr/bin/chromium ] || die "chromium missing (the e2e browser): apt-get install -y chromium"

VERSION="$(node -p "require('$CS/package.json').version")"
# node-gyp must build against the installed Node's headers, not download them (nodejs.org
# may be unreachable): point it at them unless npm is already configured.
NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] \
  && [ -f "$NODE_PREFIX/include/node/node.h" ]; then
  export npm_config_nodedir="$NODE_PREFIX"
fi
# `code-server --version` writes a default config.yaml and logs: keep them out of $HOME.
XDG_TMP="$(mktemp -d)"
trap 'rm -rf "$XDG_TMP"' EXIT
cs_version() { XDG_CONFIG_HOME="$XDG_TMP" XDG_DATA_HOME="$XDG_TMP" node "$CS/out/node/entry.js" --version; }
if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ] \
  && cs_version >/dev/null 2>&1; then
  echo "code-server $VERSION already set up (scripts/setup-code-server.sh --force to redo)"
  exit 0
fi
rm -f "$STAMP"
t0=$SECONDS

# code-server requires argon2 at import time, even with --auth none; the prebuilt binary's
# download (GitHub) fails, so node-gyp builds it from source (Node headers from npm's nodedir).
(cd "$TOOLS" && npm rebuild argon2 --no-audit --no-fund)

cd "$VS"
# The VS Code server's own dependencies (what postinstall.sh would npm install).
npm install --omit=dev --ignore-scripts --no-audit --no-fund
# @vscode/ripgrep's postinstall downloads from GitHub and skips when bin/ exists: use
# Debian's rg. Without it Quick Open and search find no files.
mkdir -p node_modules/@vscode/ripgrep/bin
cp -f "$RG" node_modules/@vscode/ripgrep/bin/rg
# Native modules (node-pty, kerberos, spdlog, …); node-pty's postinstall runs `npx node-gyp`,
# which needs yes=true when npm's config says yes=false.
npm_config_yes=true npm rebuild --no-audit --no-fund
# The rest of postinstall.sh: node_modules.asar for extensions that look there, and the
# integrated terminal's `code-server` CLI and $BROWSER helper.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
# Built-in extensions' shared dependencies (TypeScript for the JSON/TS language features).
(cd extensions && npm install --omit=dev --no-audit --no-fund)

cs_version
echo "$VERSION" > "$STAMP"
echo "code-server $VERSION set up in $((SECONDS - t0)) s"
