#!/bin/bash
# mailstack.sh - throwaway loopback mail stack for WarmDesk's tests (Debian 12: Dovecot 2.3 + Postfix +
# the fake OAuth2 provider tests/support/oauth_provider.ts).
#
#   mailstack.sh start     -> writes configs under the stack dir, starts daemons, prints `export VAR=...` lines
#   mailstack.sh stop      -> stops what `start` started in $MAILSTACK_DIR (by PID), keeps the dir (logs, Maildirs)
#   mailstack.sh stop-all  -> stops every stack under <repo>/.stack
#   mailstack.sh status    -> PIDs and listening ports of the stacks under <repo>/.stack
#   usage:  env=$(tests/support/mailstack.sh start) && eval "$env"; deno test -A ...; tests/support/mailstack.sh stop
#   (not `eval "$(mailstack.sh start)"`: that hides a failed start)
#
# Needs root (Dovecot switches to the `mail` user for mail files, Postfix to `postfix`).
# Packages: dovecot-imapd dovecot-lmtpd postfix openssl; Deno for the OAuth provider.
# Everything listens on 127.0.0.1 only. Nothing under /etc is written; system services are not touched.
#
# Dovecot: IMAP (plain + STARTTLS) on IMAP_PORT, implicit TLS on IMAPS_PORT, LMTP on LMTP_PORT; PLAIN/LOGIN
# against a passwd-file, XOAUTH2/OAUTHBEARER through the oauth2 passdb -> $OAUTH_URL/introspect.
# Postfix on SMTP_PORT (exported as POSTFIX_PORT): local users via LMTP into Dovecot; every other recipient
# lands in catchall@MAIL_DOMAIN with Delivered-To: catchall+local=domain@MAIL_DOMAIN.
# Users (local parts @MAIL_DOMAIN): alice/alice-pass, bob/bob-pass, catchall/catchall-pass and a pool
# user1..userN with password pass-1..pass-N for parallel tests (tests/support/mailstack.ts takeUser()).
#
# Environment (defaults):
#   MAILSTACK_DIR=<repo>/.stack/p<IMAP_PORT> (stack dirs live under <repo>/.stack, which is gitignored; if
#     the user `mail` cannot reach it (a parent without o+x, e.g. /root), /tmp/warmdesk-stack-<hash> is used)
#   IMAP_PORT=10143 IMAPS_PORT=10993 LMTP_PORT=10024 SMTP_PORT=10025 OAUTH_PORT=10090 (not 10080: Fetch blocks it)
#   MAILSTACK_PORTS=auto|fixed: with auto (default, and when no port variable is set) a busy default block
#     moves all five ports up by 1000 (up to 9 times), so two test runs in one tree do not collide
#   MAILSTACK_OWNER_PID: PID of the run using the stack (tests/run.sh sets it); a later start stops the
#     stack once that process is gone (a killed run), instead of moving to the next port block
#   MAILSTACK_POOL_SIZE=20  MAILSTACK_POSTFIX=auto|0|1  MAILSTACK_DEBUG=0|1  MAILSTACK_FSYNC=never|optimized|always
#   MAIL_DOMAIN=example.test   DENO=/path/to/deno (default: `deno` in PATH)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ROOT="$REPO/.stack"
PORT_VARS_SET=0
for v in IMAP_PORT IMAPS_PORT LMTP_PORT SMTP_PORT OAUTH_PORT; do [[ -n ${!v:-} ]] && PORT_VARS_SET=1; done
PORTS_MODE="${MAILSTACK_PORTS:-auto}"; [[ $PORT_VARS_SET == 1 ]] && PORTS_MODE=fixed
set_ports() { # offset
  IMAP_PORT="${IMAP_PORT_SET:-$((10143 + $1))}"; IMAPS_PORT="${IMAPS_PORT_SET:-$((10993 + $1))}"
  LMTP_PORT="${LMTP_PORT_SET:-$((10024 + $1))}"; SMTP_PORT="${SMTP_PORT_SET:-$((10025 + $1))}"
  OAUTH_PORT="${OAUTH_PORT_SET:-$((10090 + $1))}"
  DIR="${MAILSTACK_DIR:-$ROOT/p$IMAP_PORT}"
}
IMAP_PORT_SET=${IMAP_PORT:-}; IMAPS_PORT_SET=${IMAPS_PORT:-}; LMTP_PORT_SET=${LMTP_PORT:-}
SMTP_PORT_SET=${SMTP_PORT:-}; OAUTH_PORT_SET=${OAUTH_PORT:-}
set_ports 0
DOMAIN="${MAIL_DOMAIN:-example.test}"
POOL_SIZE="${MAILSTACK_POOL_SIZE:-20}"
FIXED_USERS="alice:alice-pass bob:bob-pass catchall:catchall-pass"
USERS="$FIXED_USERS$(for i in $(seq 1 "$POOL_SIZE"); do printf ' user%d:pass-%d' "$i" "$i"; done)"
DEBUG="${MAILSTACK_DEBUG:-0}"; FSYNC="${MAILSTACK_FSYNC:-never}"
WANT_POSTFIX="${MAILSTACK_POSTFIX:-auto}"
DENO="${DENO:-$(command -v deno || echo deno)}"

log() { echo "mailstack: $*" >&2; }
die() { log "ERROR: $*"; if [[ ${STARTING:-0} == 1 ]]; then do_stop; fi; exit 1; }
now_ms() { date +%s%3N; }

# wait until a TCP port on 127.0.0.1 sends a line starting with $2 (greeting); HTTP if $2 == HTTP
wait_greeting() { # port prefix timeout_s
  local port=$1 want=$2 deadline=$(( $(now_ms) + ${3:-10}*1000 )) line
  while (( $(now_ms) < deadline )); do
    if { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
      if [[ $want == HTTP ]]; then printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&9; fi
      line=""; IFS= read -r -t 2 line <&9 || true
      exec 9<&- 9>&-
      [[ $line == "$want"* ]] && return 0
    fi
    sleep 0.05
  done
  return 1
}

port_free() { ! { (exec 9<>"/dev/tcp/127.0.0.1/$1"); } 2>/dev/null; }

# alive = exists and is not a zombie (daemons are reparented to init, which may reap them late)
# (reads /proc directly: slim images may lack procps)
alive() { local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [[ -n $st && $st != Z* ]]; }

do_stop() {
  local f name pid pids=() names=() files=() t0 i
  t0=$(now_ms)
  for f in "$DIR/oauth.pid:oauth-provider" "$DIR/postfix-spool/pid/master.pid:postfix" "$DIR/run/master.pid:dovecot"; do
    name=${f##*:}; f=${f%:*}
    [[ -s $f ]] || continue
    pid=$(awk '{print $1; exit}' "$f")
    if [[ -n $pid ]] && alive "$pid"; then
      kill -TERM "$pid"; pids+=("$pid"); names+=("$name"); files+=("$f")   # SIGTERM all first, then wait
    else
      rm -f "$f"   # stale
    fi
  done
  for i in "${!pids[@]}"; do
    for _ in $(seq 1 200); do alive "${pids[$i]}" || break; sleep 0.05; done
    if alive "${pids[$i]}"; then log "${names[$i]} (${pids[$i]}) alive after 10 s, SIGKILL"; kill -KILL "${pids[$i]}" || true; fi
    rm -f "${files[$i]}"   # dovecot/postfix remove their own pid files; the oauth one is ours
    log "stopped ${names[$i]} (pid ${pids[$i]}) after $(( $(now_ms) - t0 )) ms"
  done
}

gen_dovecot() {
  local mail_uid mail_gid u name pass
  mail_uid=$(id -u mail); mail_gid=$(id -g mail)
  : > "$DIR/users"
  for u in $USERS; do
    name=${u%%:*}; pass=${u#*:}
    echo "$name@$DOMAIN:{PLAIN}$pass:$mail_uid:$mail_gid::$DIR/mail/$name@$DOMAIN::" >> "$DIR/users"
  done
  chmod 640 "$DIR/users"; chgrp dovecot "$DIR/users"

  cat > "$DIR/dovecot-oauth2.conf.ext" <<EOF
# Dovecot 2.3 oauth2 passdb -> RFC 7662 introspection endpoint (bin/oauth_introspect.ts)
introspection_mode = post
introspection_url = http://127.0.0.1:$OAUTH_PORT/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
debug = $([[ $DEBUG == 1 ]] && echo yes || echo no)
EOF

  cat > "$DIR/dovecot.conf" <<EOF
# Self-contained Dovecot 2.3.x config (Debian 12 ships 2.3.19.1; 2.4 renamed many settings).
protocols = imap lmtp
listen = 127.0.0.1
base_dir = $DIR/run
state_dir = $DIR/state
instance_name = mailstack-$(basename "$DIR")
log_path = $DIR/log/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S.%{usecs} "
auth_verbose = yes
auth_debug = $([[ $DEBUG == 1 ]] && echo yes || echo no)
mail_debug = $([[ $DEBUG == 1 ]] && echo yes || echo no)

ssl = yes
ssl_cert = <$DIR/tls/cert.pem
ssl_key = <$DIR/tls/key.pem
# plaintext LOGIN/PLAIN allowed without TLS (loopback test server)
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
# tests: no 2 s delay on failed logins (failures still answer after <=0.5 s, a fixed timer in 2.3)
auth_failure_delay = 0
recipient_delimiter = +

mail_location = maildir:~/Maildir
mail_uid = mail
mail_gid = mail
first_valid_uid = $mail_uid
first_valid_gid = $mail_gid
mail_fsync = $FSYNC

passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DIR/dovecot-oauth2.conf.ext
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $DIR/users
}
# passwd-file (not static) userdb, so LMTP can tell unknown users without a passdb lookup
userdb {
  driver = passwd-file
  args = username_format=%u $DIR/users
}

namespace inbox {
  inbox = yes
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# disable anvil's per-IP auth penalty (2,4,8,15 s after repeated failures); base_dir must be fresh
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
EOF
}

gen_postfix() {
  local P=$DIR/postfix u
  mkdir -p "$P" "$DIR/postfix-spool" "$DIR/postfix-data"
  chown postfix "$DIR/postfix-data"
  : > "$P/vmailbox"
  for u in $USERS; do echo "${u%%:*}@$DOMAIN OK" >> "$P/vmailbox"; done
  cat > "$P/catchall.regexp" <<EOF
# every recipient outside $DOMAIN goes to catchall@$DOMAIN (nothing leaves the machine);
# the original address is kept as detail: Delivered-To: catchall+local=domain@$DOMAIN
if !/@${DOMAIN//./\\.}\$/
/^(.+)@(.+)\$/ catchall+\${1}=\${2}@$DOMAIN
endif
EOF
  cat > "$P/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $DIR/postfix-spool
data_directory = $DIR/postfix-data
maillog_file = $DIR/log/postfix.log
maillog_file_prefixes = $DIR/log
syslog_name = postfix-mailstack
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = $DOMAIN
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtputf8_enable = no
recipient_delimiter = +
message_size_limit = 52428800
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$P/vmailbox
virtual_alias_domains =
virtual_alias_maps = regexp:$P/catchall.regexp
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
# one recipient per LMTP transaction -> Dovecot writes a Delivered-To header
lmtp_destination_recipient_limit = 1
default_transport = error:5.7.1 external delivery disabled in test mail stack
relay_transport = error:5.7.1 external delivery disabled in test mail stack
smtpd_tls_security_level = may
smtpd_tls_cert_file = $DIR/tls/cert.pem
smtpd_tls_key_file = $DIR/tls/key.pem
EOF
  cat > "$P/master.cf" <<EOF
# service          type  private unpriv chroot wakeup maxproc command
127.0.0.1:$SMTP_PORT  inet  n       -      n      -      -       smtpd
pickup             unix  n       -      n      60     1       pickup
cleanup            unix  n       -      n      -      0       cleanup
qmgr               unix  n       -      n      300    1       qmgr
tlsmgr             unix  -       -      n      1000?  1       tlsmgr
rewrite            unix  -       -      n      -      -       trivial-rewrite
bounce             unix  -       -      n      -      0       bounce
defer              unix  -       -      n      -      0       bounce
trace              unix  -       -      n      -      0       bounce
verify             unix  -       -      n      -      1       verify
flush              unix  n       -      n      1000?  0       flush
proxymap           unix  -       -      n      -      -       proxymap
proxywrite         unix  -       -      n      -      1       proxymap
smtp               unix  -       -      n      -      -       smtp
relay              unix  -       -      n      -      -       smtp
showq              unix  n       -      n      -      -       showq
error              unix  -       -      n      -      -       error
retry              unix  -       -      n      -      -       error
discard            unix  -       -      n      -      -       discard
lmtp               unix  -       -      n      -      -       lmtp
anvil              unix  -       -      n      -      1       anvil
scache             unix  -       -      n      -      1       scache
postlog            unix-dgram n  -      n      -      1       postlogd
EOF
  # Postfix re-reads main.cf and texthash tables until their mtime is >=2 s old ("let it cool down"),
  # which costs ~1.5-2 s per freshly written file: backdate them
  touch -d '-10 seconds' "$P"/*
}

# pick the port block: defaults, or (MAILSTACK_PORTS=auto) the first block of five free ports
choose_ports() {
  local off p free
  for off in 0 1000 2000 3000 4000 5000 6000 7000 8000 9000; do
    set_ports "$off"
    [[ $PORTS_MODE == fixed || -n ${MAILSTACK_DIR:-} ]] && return 0   # explicit ports or dir pin the block
    # a live stack in this block's dir belongs to another run: never kill it, move on -
    # unless the run that started it (MAILSTACK_OWNER_PID, set by tests/run.sh) is gone: an orphan
    if [[ -s $DIR/run/master.pid ]] && alive "$(awk '{print $1; exit}' "$DIR/run/master.pid")"; then
      local owner; owner=$(cat "$DIR/owner.pid" 2>/dev/null || true)
      if [[ -n $owner ]] && ! alive "$owner"; then
        log "stopping orphaned stack in $DIR (its run, pid $owner, is gone)"; do_stop
      else
        continue
      fi
    fi
    free=1
    for p in $IMAP_PORT $IMAPS_PORT $LMTP_PORT $SMTP_PORT $OAUTH_PORT; do port_free "$p" || free=0; done
    [[ $free == 1 ]] && return 0
  done
  die "no free block of ports found (tried 10 blocks from 10143)"
}

# the stack dir and its parents must be reachable by `mail` (Dovecot) and `postfix`
choose_root() {
  mkdir -p "$ROOT"; chmod 755 "$ROOT" 2>/dev/null || true
  if ! runuser -u mail -- test -x "$ROOT" 2>/dev/null; then
    local alt; alt="$(alt_root)"
    log "$ROOT is not reachable by user mail (a parent lacks o+x); using $alt"
    ROOT=$alt; mkdir -p "$ROOT"; chmod 755 "$ROOT"
  fi
}
# a mkdir lock, not flock: a flock fd would be inherited by the daemons and held for their lifetime
lock_start() {
  local lock=$ROOT/.start.lock.d holder deadline=$(( $(now_ms) + 60000 ))
  mkdir -p "$ROOT"
  until mkdir "$lock" 2>/dev/null; do
    holder=$(cat "$lock/pid" 2>/dev/null || true)
    if [[ -n $holder ]] && ! alive "$holder"; then rm -rf "$lock"; continue; fi
    (( $(now_ms) < deadline )) || die "timed out waiting for $lock (remove it if no start is running)"
    sleep 0.05
  done
  echo $$ > "$lock/pid"; LOCKED=$lock
  trap unlock_start EXIT
}
unlock_start() { if [[ -n ${LOCKED:-} ]]; then rm -rf "$LOCKED"; LOCKED=; fi; }
alt_root() { echo "/tmp/warmdesk-stack-$(printf %s "$REPO" | md5sum | cut -c1-10)"; }

do_start() {
  [[ $(id -u) == 0 ]] || die "must run as root"
  command -v dovecot >/dev/null || die "dovecot not installed (apt-get install dovecot-imapd dovecot-lmtpd)"
  local use_postfix=0
  case $WANT_POSTFIX in 1) use_postfix=1;; auto) command -v postfix >/dev/null && use_postfix=1;; esac
  [[ $use_postfix == 1 ]] && ! command -v postfix >/dev/null && die "postfix not installed"
  [[ -x $DENO ]] || die "deno not found (set DENO=...)"

  if [[ -z ${MAILSTACK_DIR:-} ]]; then choose_root; fi
  # serialize concurrent starts (port choice until the ports are bound) across processes
  lock_start
  choose_ports
  do_stop 2>/dev/null || true   # leftovers from an earlier run in the same dir
  local p
  for p in $IMAP_PORT $IMAPS_PORT $LMTP_PORT $([[ $use_postfix == 1 ]] && echo $SMTP_PORT) $OAUTH_PORT; do
    port_free "$p" || die "127.0.0.1:$p is already in use"
  done

  # only ever wipe a directory this script created (marker file) or an empty one
  if [[ -d $DIR && -n $(ls -A "$DIR") && ! -e $DIR/.mailstack ]]; then die "$DIR exists and is not a mailstack dir"; fi
  rm -rf "$DIR"
  mkdir -p "$DIR"/{tls,run,state,log,mail,pool}
  touch "$DIR/.mailstack"
  if [[ -n ${MAILSTACK_OWNER_PID:-} ]]; then echo "$MAILSTACK_OWNER_PID" > "$DIR/owner.pid"; fi
  chmod 755 "$DIR"
  chown mail:mail "$DIR/mail"
  runuser -u mail -- test -w "$DIR/mail" || die "$DIR/mail not writable by user mail (parent dirs need o+x)"

  local t0 t_all; t_all=$(now_ms)
  STARTING=1   # from here on, die() stops whatever was already started
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
  chmod 644 "$DIR/tls/key.pem"   # throwaway key; in-process test servers (smtp_sink.ts) read it too

  gen_dovecot
  doveconf -c "$DIR/dovecot.conf" -n > /dev/null || die "dovecot config invalid"

  # the fake OAuth2 provider: Dovecot's introspection endpoint and the tests' Google/Microsoft stand-in
  t0=$(now_ms)
  (cd "$REPO" && OAUTH_PORT=$OAUTH_PORT exec "$DENO" run --allow-net=127.0.0.1 --allow-env \
    "$HERE/oauth_provider.ts" > "$DIR/log/oauth.log" 2>&1 < /dev/null) &
  echo $! > "$DIR/oauth.pid"
  wait_greeting "$OAUTH_PORT" HTTP 30 || { cat "$DIR/log/oauth.log" >&2 2>/dev/null || true; die "oauth provider did not start"; }
  log "oauth provider up in $(( $(now_ms) - t0 )) ms (pid $(cat "$DIR/oauth.pid"))"

  t0=$(now_ms)
  dovecot -c "$DIR/dovecot.conf" < /dev/null > "$DIR/log/dovecot-start.out" 2>&1 \
    || { cat "$DIR/log/dovecot-start.out" "$DIR/log/dovecot.log" >&2 2>/dev/null || true; die "dovecot failed"; }
  wait_greeting "$IMAP_PORT" "* OK" 10 || { cat "$DIR/log/dovecot.log" >&2 2>/dev/null || true; die "dovecot IMAP not ready"; }
  wait_greeting "$LMTP_PORT" "220" 10 || die "dovecot LMTP not ready"
  log "dovecot $(dovecot --version | cut -d' ' -f1) up in $(( $(now_ms) - t0 )) ms (pid $(cat "$DIR/run/master.pid"))"

  if [[ $use_postfix == 1 ]]; then
    t0=$(now_ms)
    gen_postfix
    # fresh queue dir: create it, then skip the slow integrity checks (postfix-script honours quick-start);
    # postfix prints its own errors only to a tty or the maillog; keep its output for diagnostics
    postfix -c "$DIR/postfix" post-install create-missing > "$DIR/log/postfix-start.out" 2>&1 \
      || { cat "$DIR/log/postfix-start.out" >&2 2>/dev/null || true; die "postfix create-missing failed"; }
    touch "$DIR/postfix-spool/quick-start"
    if ! postfix -c "$DIR/postfix" start < /dev/null >> "$DIR/log/postfix-start.out" 2>&1; then
      cat "$DIR/log/postfix-start.out" "$DIR/log/postfix.log" >&2 2>/dev/null || true
      script -qc "postfix -c '$DIR/postfix' check" /dev/null >&2 || true
      die "postfix failed to start"
    fi
    wait_greeting "$SMTP_PORT" "220" 15 || { cat "$DIR/log/postfix.log" >&2 2>/dev/null || true; die "postfix SMTP not ready"; }
    log "postfix $(postconf -c "$DIR/postfix" -h mail_version) up in $(( $(now_ms) - t0 )) ms (pid $(awk '{print $1}' "$DIR/postfix-spool/pid/master.pid"))"
  fi
  STARTING=0
  exec   # release the start lock
  log "all up in $(( $(now_ms) - t_all )) ms; logs in $DIR/log"

  cat <<EOF
export MAILSTACK_DIR=$DIR
export MAILSTACK_CA=$DIR/tls/cert.pem
export MAILSTACK_KEY=$DIR/tls/key.pem
export MAIL_DOMAIN=$DOMAIN
export MAILSTACK_POOL_SIZE=$POOL_SIZE
export IMAP_HOST=127.0.0.1
export IMAP_PORT=$IMAP_PORT
export IMAPS_PORT=$IMAPS_PORT
export LMTP_PORT=$LMTP_PORT
export OAUTH_PORT=$OAUTH_PORT
export OAUTH_URL=http://127.0.0.1:$OAUTH_PORT
EOF
  if [[ $use_postfix == 1 ]]; then echo "export POSTFIX_PORT=$SMTP_PORT"; fi
  return 0
}

status_one() {
  local f DIR=$1
  echo "$DIR:"
  for f in "$DIR/run/master.pid:dovecot" "$DIR/postfix-spool/pid/master.pid:postfix" "$DIR/oauth.pid:oauth"; do
    local pf=${f%%:*} name=${f##*:} pid
    pid=$( [[ -s $pf ]] && awk '{print $1; exit}' "$pf" || true)
    if [[ -n $pid ]] && alive "$pid"; then echo "  $name: running (pid $pid)"; else echo "  $name: not running"; fi
  done
}

each_stack() { # fn
  local d any=0
  for d in "$ROOT"/*/ "$(alt_root)"/*/; do
    [[ -e ${d}.mailstack ]] || continue
    any=1; "$1" "${d%/}"
  done
  [[ $any == 1 ]] || log "no stacks under $ROOT"
}

stop_dir() { DIR=$1 do_stop; }

case "${1:-}" in
  start) do_start ;;
  stop) if [[ -z ${MAILSTACK_DIR:-} && ! -e $DIR/.mailstack && -e $(alt_root)/p$IMAP_PORT/.mailstack ]]; then DIR=$(alt_root)/p$IMAP_PORT; fi
        do_stop ;;
  stop-all) each_stack stop_dir ;;
  restart) do_stop; do_start ;;
  status) if [[ -n ${MAILSTACK_DIR:-} ]]; then status_one "$MAILSTACK_DIR"; else each_stack status_one; fi ;;
  *) echo "usage: $0 start|stop|stop-all|restart|status" >&2; exit 2 ;;
esac
