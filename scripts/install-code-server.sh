#!/usr/bin/env bash
# Idempotent offline-friendly install of code-server 4.100.3 (the newest release that runs on Node 20)
# into DIR (default: $BNLENS_CODE_SERVER_DIR, else .ci-cache/code-server at the repo root, git-ignored). A second run is instant: a stamp file
# records a finished install. Needs root for apt-get (skipped when the packages are already there).
#
# Why the manual steps (see shared notes "real-vscode-host"): code-server's own postinstall refuses root,
# downloads ripgrep from the internet (not reachable here) and runs `npx node-gyp` interactively. We
# install with --ignore-scripts and do its work by hand, using Debian's ripgrep.
set -euo pipefail

VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-${BNLENS_CODE_SERVER_DIR:-$ROOT/.ci-cache/code-server}}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
STAMP="$DIR/.installed-$VERSION"
BIN="$DIR/node_modules/.bin/code-server"

if [[ -f "$STAMP" && -x "$BIN" ]]; then
  echo "code-server $VERSION already installed in $DIR"
  exit 0
fi

# Debian packages: chromium (browser for Playwright), libkrb5-dev + pkg-config (kerberos native module),
# ripgrep (replaces @vscode/ripgrep's download).
need=()
for p in libkrb5-dev pkg-config ripgrep chromium; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  echo "apt-get install ${need[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
cd "$DIR"
[[ -f package.json ]] || npm init -y >/dev/null
npm install --ignore-scripts --no-save "code-server@$VERSION"
npm rebuild argon2

VS="$DIR/node_modules/code-server/lib/vscode"
cd "$VS"
npm install --ignore-scripts --omit=dev
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild   # node-pty, spdlog, kerberos, @parcel/watcher ... (needs libkrb5-dev)
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev)

"$BIN" --version
touch "$STAMP"
echo "code-server $VERSION installed in $DIR"
