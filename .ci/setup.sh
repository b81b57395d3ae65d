#!/bin/bash
# .ci/setup.sh - idempotent machine setup for the test suite on Debian 12 (bookworm), as root:
#   - Deno 2.9.6 from the npm package `deno` (node + npm must be present)
#   - dovecot-imapd dovecot-lmtpd postfix chromium, WITHOUT starting or configuring system mail services
#     (tests/support/mailstack.sh runs its own loopback instances)
# Quick when everything is already there (no apt-get update, no npm call).
# Env: DENO_VERSION (default 2.9.6), CI_APT=0 to skip the apt part.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
DENO_VERSION="${DENO_VERSION:-2.9.6}"
t() { local s; s=$(date +%s%3N); "$@"; echo "ci-setup: '$*' took $(( $(date +%s%3N) - s )) ms" >&2; }
log() { echo "ci-setup: $*" >&2; }
[[ $(id -u) == 0 ]] || { log "must run as root"; exit 1; }

# ---- Deno from npm -------------------------------------------------------------------------------
deno_ok() { # deno on PATH runs and is the wanted version
  local out; out=$(deno --version 2>/dev/null | head -1) || return 1
  [[ $out == "deno $DENO_VERSION "* ]]
}
# an earlier run may have installed it into npm's global bin without that being on PATH
if ! deno_ok && command -v npm > /dev/null; then
  nbin="$(npm prefix -g)/bin"
  if [[ -x $nbin/deno ]]; then export PATH="$nbin:$PATH"; fi
fi
if deno_ok; then
  log "deno $DENO_VERSION already installed ($(command -v deno))"
else
  command -v npm >/dev/null || { log "npm not found: install node + npm first"; exit 1; }
  # npm 11's allow-scripts policy may skip the package's postinstall (it links the native binary);
  # allow it where npm knows the setting, and repair below in any case
  allow=()
  if npm config ls -l 2>/dev/null | grep -q '^allow-scripts '; then allow=(--allow-scripts=deno); fi
  t npm install -g --no-audit --no-fund "${allow[@]}" "deno@$DENO_VERSION" < /dev/null
  pkg="$(npm root -g)/deno"; bin="$(npm prefix -g)/bin"
  if [[ ! -x $pkg/deno ]]; then
    log "postinstall of deno was skipped; running it now"
    (cd "$pkg" && node ./install.cjs)
  fi
  # point the command at the native binary instead of the node shim (bin.cjs), as the postinstall would
  if [[ -x $pkg/deno ]] && "$pkg/deno" --version > /dev/null 2>&1; then
    ln -sf "$pkg/deno" "$bin/deno"
  fi
  case ":$PATH:" in *":$bin:"*) ;; *) export PATH="$bin:$PATH" ;; esac
  hash -r
  deno_ok || { log "deno $DENO_VERSION is not usable after npm install: $(deno --version 2>&1 | head -1)"; exit 1; }
  log "installed $(deno --version | head -1) at $(command -v deno) -> $(readlink -f "$(command -v deno)")"
fi

# ---- Debian packages -----------------------------------------------------------------------------
pkgs=(dovecot-imapd dovecot-lmtpd postfix chromium)   # dovecot-core pulls in openssl
missing=()
for p in "${pkgs[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$p")
done
if [[ ${CI_APT:-1} == 0 ]]; then
  log "CI_APT=0: skipping apt"
elif (( ${#missing[@]} == 0 )); then
  log "packages already installed: ${pkgs[*]}"
else
  # keep apt from starting dovecot/postfix as system services (they would listen on *:143/993/25);
  # Docker-style images already ship /usr/sbin/policy-rc.d (exit 101); otherwise add one for the install
  temp_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; temp_policy=1
  fi
  trap 'if [[ $temp_policy == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  # Postfix "No configuration": no /etc/postfix/main.cf, nothing started
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  t apt-get update -qq < /dev/null
  t apt-get install -y -qq --no-install-recommends "${missing[@]}" < /dev/null > /dev/null
  # on systemd machines without policy-rc.d the services may have been enabled: make sure they are off
  if command -v systemctl > /dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now dovecot.service postfix.service 2> /dev/null || true
  fi
fi
if [[ ${CI_APT:-1} != 0 ]]; then
  log "dovecot $(dovecot --version | cut -d' ' -f1), postfix $(postconf -d -h mail_version 2>/dev/null)," \
    "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?')"
fi
