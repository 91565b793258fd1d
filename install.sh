#!/bin/sh
# IronClaw installer for Linux and macOS on amd64 and arm64. It downloads a release, checks the archive's
# SHA-256 against the release's SHA256SUMS before anything from it runs, and installs `ironclaw`.
#
#   curl --proto '=https' --tlsv1.2 -fsSL https://github.com/ironclaw-dev/ironclaw/releases/latest/download/install.sh | sh
#
# Environment (all optional):
#   IRONCLAW_VERSION         the release to install: X.Y.Z or vX.Y.Z (default: the latest)
#   IRONCLAW_INSTALL_DIR     where `ironclaw` goes (default: $HOME/.ironclaw/bin)
#   IRONCLAW_BASE_URL        a releases base URL with GitHub's layout: <base>/latest answers the tag or
#                            redirects to <base>/tag/<tag>; assets are at <base>/download/<tag>/<asset>
#                            (default: https://github.com/$IRONCLAW_REPO/releases). https:// only; plain
#                            http:// only for 127.0.0.1, localhost and [::1]
#   IRONCLAW_NO_MODIFY_PATH  any value: leave shell profiles alone
#   IRONCLAW_ALLOW_DOWNGRADE 1: install the release even over a newer `ironclaw` at the destination
#   IRONCLAW_TIMEOUT         seconds to connect, and that a download may go without a byte (default 60);
#                            never a cap on a whole download
#   IRONCLAW_REPO            OWNER/NAME whose release workflow must have signed the release
#                            (default: ironclaw-dev/ironclaw)
#   IRONCLAW_TRUSTED_ROOT    trusted_root.json of another Sigstore instance, for the signature check
#                            (default: the verifier's own Sigstore public-good root)
#
# Every download follows at most 5 redirects: from an https:// base only to https:// (any host: integrity
# comes from the checksum and signature, not the host), from an http:// base only to http:// on this
# machine. Each Location is checked before it is fetched. What a download may hold is capped while it
# is read: `latest` 64 KiB, SHA256SUMS and bundles 16 MiB, an archive 512 MiB.
#
# The signature over SHA256SUMS and the build provenance are checked when a trusted verifier is already
# here: an `ironclaw` from an earlier install (in the install directory, else on PATH), else `cosign`.
# Without one, the installer says that only the checksum was checked, and how to check the rest by hand.
#
# Exit codes: 0 installed; 1 a check said no; 2 bad settings; 3 a tool, the network or the disk failed.
#
# Every line below is inside a function, and only the last line runs anything: a download cut short
# either fails to parse or defines functions that nothing calls.

# The one place this script names whose releases these are (packages/verify/src/release/config.ts is the other).
default_repository() { printf '%s' "ironclaw-dev/ironclaw"; }

say() { printf '%s\n' "$*"; }

warn() { printf 'ironclaw install: warning: %s\n' "$*" >&2; }

# fail CODE MESSAGE: the message says what was expected, what was found and what to do.
fail() {
  fail_code=$1
  shift
  printf 'ironclaw install: error: %s\n' "$*" >&2
  exit "$fail_code"
}

usage() {
  say "usage: install.sh, configured by the environment, with no arguments:"
  say "  IRONCLAW_VERSION=X.Y.Z        the release to install (default: the latest)"
  say "  IRONCLAW_INSTALL_DIR=DIR      where ironclaw goes (default: \$HOME/.ironclaw/bin)"
  say "  IRONCLAW_BASE_URL=URL         the releases (default: https://github.com/\$IRONCLAW_REPO/releases)"
  say "  IRONCLAW_NO_MODIFY_PATH=1     leave shell profiles alone"
  say "  IRONCLAW_ALLOW_DOWNGRADE=1    install even over a newer ironclaw at the destination"
  say "  IRONCLAW_TIMEOUT=SECONDS      to connect, and with no byte received, before a download fails (default: 60)"
  say "  IRONCLAW_REPO=OWNER/NAME      whose release workflow must have signed (default: $(default_repository))"
  say "  IRONCLAW_TRUSTED_ROOT=FILE    trusted_root.json of another Sigstore instance, for the signature check"
}

# matches VALUE ERE: the whole value, newlines included, against an extended regular expression.
matches() {
  IRONCLAW_MATCH_VALUE=$1 IRONCLAW_MATCH_ERE=$2 awk 'BEGIN { exit !(ENVIRON["IRONCLAW_MATCH_VALUE"] ~ ENVIRON["IRONCLAW_MATCH_ERE"]) }'
}

has() { command -v "$1" >/dev/null 2>&1; }

# printable TEXT: TEXT with every byte but printable ASCII replaced by '?', for messages that quote
# what a server sent: an escape sequence in a tag or a Location must not steer the user's terminal.
printable() {
  IRONCLAW_TEXT=$1 LC_ALL=C awk 'BEGIN { s = ENVIRON["IRONCLAW_TEXT"]; gsub(/[^ -~]/, "?", s); print s }'
}

cleanup() {
  # A download in the background (BusyBox wget, see idle_watch) ignores Ctrl-C: it is ended here.
  if [ -n "${watched_job:-}" ]; then
    if [ -f "$watched_pidfile" ] && read -r cu_pid <"$watched_pidfile"; then kill "$cu_pid" 2>/dev/null || true; fi
    kill "$watched_job" 2>/dev/null || true
  fi
  if [ -n "${staged:-}" ]; then rm -f "$staged"; fi
  if [ -n "${tmp_dir:-}" ]; then rm -rf "$tmp_dir"; fi
}

read_settings() {
  repo=${IRONCLAW_REPO:-$(default_repository)}
  case $repo in
    . | ./* | .. | ../* | */. | */..) fail 2 "IRONCLAW_REPO must be OWNER/NAME, found '$repo'" ;;
  esac
  if ! matches "$repo" '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$'; then
    fail 2 "IRONCLAW_REPO must be OWNER/NAME, found '$repo'"
  fi

  version=${IRONCLAW_VERSION:-latest}
  version=${version#v}
  if [ "$version" = latest ]; then
    version=""
  elif ! matches "$version" '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
    fail 2 "IRONCLAW_VERSION must be X.Y.Z or vX.Y.Z (or unset for the latest), found '${IRONCLAW_VERSION:-}'"
  fi

  base_url=${IRONCLAW_BASE_URL:-https://github.com/$repo/releases}
  check_base_url
  while [ "${base_url%/}" != "$base_url" ]; do base_url=${base_url%/}; done

  if [ -n "${IRONCLAW_INSTALL_DIR:-}" ]; then
    install_dir=$IRONCLAW_INSTALL_DIR
  elif [ -n "${HOME:-}" ]; then
    install_dir=$HOME/.ironclaw/bin
  else
    fail 2 "HOME is not set, so there is no default install directory: set IRONCLAW_INSTALL_DIR"
  fi
  case $install_dir in /*) ;; *) install_dir=$PWD/$install_dir ;; esac
  while [ "${install_dir%/}" != "$install_dir" ] && [ "$install_dir" != / ]; do install_dir=${install_dir%/}; done

  allow_downgrade=${IRONCLAW_ALLOW_DOWNGRADE:-}
  case $allow_downgrade in
    "" | 0 | 1) ;;
    *) fail 2 "IRONCLAW_ALLOW_DOWNGRADE must be 1 (or 0, or unset), found '$allow_downgrade'" ;;
  esac

  timeout=${IRONCLAW_TIMEOUT:-60}
  if ! matches "$timeout" '^[1-9][0-9]*$' || [ "${#timeout}" -gt 4 ]; then
    fail 2 "IRONCLAW_TIMEOUT must be a number of seconds from 1 to 9999, found '$timeout'"
  fi

  trusted_root=${IRONCLAW_TRUSTED_ROOT:-}
  if [ -n "$trusted_root" ]; then
    case $trusted_root in /*) ;; *) trusted_root=$PWD/$trusted_root ;; esac
    if [ ! -f "$trusted_root" ] || [ ! -r "$trusted_root" ]; then
      fail 2 "IRONCLAW_TRUSTED_ROOT must name a readable trusted_root.json, found '$trusted_root' (no such file, or unreadable)"
    fi
  fi
}

# https:// anywhere; plain http:// only to this machine, where nobody else is on the wire.
check_base_url() {
  if ! matches "$base_url" '^[]A-Za-z0-9._~:/%@+=,![-]+$'; then
    fail 2 "IRONCLAW_BASE_URL must be a plain URL (letters, digits and ._~:/%@+=,![]-), found '$base_url'"
  fi
  case $base_url in
    https://?*) url_scheme=https ;;
    http://*)
      url_scheme=http
      loopback_http "$base_url" ||
        fail 2 "IRONCLAW_BASE_URL must be https:// (plain http:// only for 127.0.0.1, localhost or [::1]), found '$base_url'"
      ;;
    *) fail 2 "IRONCLAW_BASE_URL must be https:// (plain http:// only for 127.0.0.1, localhost or [::1]), found '$base_url'" ;;
  esac
}

# loopback_http URL: true when URL is http:// to 127.0.0.1, localhost or [::1], with at most a port.
loopback_http() {
  lh_host=${1#http://}
  if [ "$lh_host" = "$1" ]; then return 1; fi
  lh_host=${lh_host%%/*}
  case $lh_host in
    127.0.0.1 | 127.0.0.1:*) lh_port=${lh_host#127.0.0.1} ;;
    localhost | localhost:*) lh_port=${lh_host#localhost} ;;
    '[::1]' | '[::1]:'*) lh_port=${lh_host#\[::1\]} ;;
    *) return 1 ;;
  esac
  [ -z "$lh_port" ] || matches "$lh_port" '^:[0-9]+$'
}

# Sets node_version when a Node.js that runs the platform-independent bundle (>= 20.17) is on PATH.
find_node() {
  node_version=""
  has node || return 0
  fn_out=$(node --version 2>/dev/null </dev/null) || return 0
  fn_out=${fn_out#v}
  fn_major=${fn_out%%.*}
  fn_minor=${fn_out#*.}
  fn_minor=${fn_minor%%.*}
  matches "$fn_major.$fn_minor" '^[0-9]+\.[0-9]+$' || return 0
  if [ "$fn_major" -gt 20 ] || { [ "$fn_major" -eq 20 ] && [ "$fn_minor" -ge 17 ]; }; then
    node_version=$fn_out
  fi
}

unsupported_platform() {
  find_node
  up_message="there is no ironclaw executable for $1: releases have them for linux and darwin on amd64 and arm64."
  if [ -n "$node_version" ]; then
    fail 3 "$up_message Node.js $node_version is installed, so use the platform-independent ironclaw_<version>_node.tar.gz from $base_url: download it with SHA256SUMS, check it (sha256sum --ignore-missing -c SHA256SUMS), extract it and run 'node ironclaw.cjs'."
  fi
  fail 3 "$up_message With Node.js >= 20.17 installed, the platform-independent ironclaw_<version>_node.tar.gz from $base_url runs anywhere: check it against SHA256SUMS, extract it and run 'node ironclaw.cjs'."
}

detect_platform() {
  has uname || fail 3 "uname is not on PATH, so the platform cannot be told; install coreutils"
  dp_os=$(uname -s) || fail 3 "uname -s failed; install coreutils"
  dp_arch=$(uname -m) || fail 3 "uname -m failed; install coreutils"
  case $dp_os in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) unsupported_platform "the operating system '$dp_os'" ;;
  esac
  case $dp_arch in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) unsupported_platform "the processor '$dp_arch' on $os" ;;
  esac
  # A shell under Rosetta 2 says x86_64 on Apple silicon; the native build is the right one there.
  if [ "$os" = darwin ] && [ "$arch" = amd64 ] && has sysctl; then
    if [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then arch=arm64; fi
  fi
  target=${os}_$arch
}

find_downloader() {
  for fd_tool in head wc sleep; do
    has "$fd_tool" || fail 3 "$fd_tool is not on PATH, and the installer needs head, wc and sleep to cap and pace its downloads: install coreutils"
  done
  if has curl; then
    downloader=curl
  elif has wget; then
    if wget --version 2>/dev/null </dev/null | awk 'NR == 1 && /GNU Wget/ { found = 1 } END { exit !found }'; then
      downloader=gnu-wget
    elif [ "$url_scheme" = http ]; then
      # BusyBox wget follows every redirect it is sent, with no switch to stop it: nc asks first.
      if ! has nc || ! has timeout || ! has sleep; then
        fail 3 "only a wget that is not GNU Wget (BusyBox's, say) is on PATH, and without nc, timeout and sleep its redirects cannot be checked before it follows them: install curl or GNU Wget"
      fi
      downloader=busybox-wget
    else
      fail 3 "only a wget that is not GNU Wget (BusyBox's, say) is on PATH, and it may not check TLS certificates: install curl or GNU Wget"
    fi
  else
    fail 3 "neither curl nor wget is on PATH: install curl"
  fi
}

find_hash_tool() {
  if has sha256sum; then
    hash_tool=sha256sum
  elif has shasum; then
    hash_tool=shasum
  elif has openssl; then
    hash_tool=openssl
  else
    fail 3 "no SHA-256 tool on PATH (sha256sum, shasum or openssl), so the download cannot be checked and nothing was installed: install coreutils, perl or openssl"
  fi
}

# Fails before any download when the install directory cannot be made: nothing is created yet.
check_install_dir() {
  cid=$install_dir
  while [ ! -e "$cid" ] && [ ! -L "$cid" ]; do
    cid=${cid%/*}
    if [ -z "$cid" ]; then cid=/; fi
  done
  if [ ! -d "$cid" ]; then
    fail 3 "cannot install into $install_dir: expected a directory, but $cid is not one. Choose another with IRONCLAW_INSTALL_DIR"
  fi
  if [ ! -w "$cid" ]; then
    fail 3 "cannot install into $install_dir: $cid is not writable. Choose another with IRONCLAW_INSTALL_DIR"
  fi
  if [ -d "$install_dir/ironclaw" ]; then
    fail 3 "cannot install $install_dir/ironclaw: it is a directory. Move it away or choose another IRONCLAW_INSTALL_DIR"
  fi
}

make_temp_dir() {
  tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/ironclaw-install.XXXXXXXXXX") || {
    tmp_dir=""
    fail 3 "cannot create a temporary directory in ${TMPDIR:-/tmp}: set TMPDIR to a writable directory"
  }
}

# http_get URL FILE CAP [latest]: fetches URL into FILE, following at most 5 redirects, each Location
# checked before it is fetched, and reading at most CAP bytes. Sets http_status, http_location (of a
# redirect, in latest mode, which does not follow it) and final_url; on failure http_problem, non-zero.
http_get() {
  hg_url=$1
  hg_out=$2
  hg_cap=$3
  hg_mode=${4:-}
  http_problem=""
  final_url=""
  hg_hops=0
  while :; do
    http_hop "$hg_url" "$hg_out" "$hg_cap" || return 1
    case $http_status in
      301 | 302 | 303 | 307 | 308)
        if [ "$hg_mode" = latest ]; then return 0; fi
        if [ -z "$http_location" ]; then
          http_problem="HTTP $http_status without a Location to follow"
          return 1
        fi
        if [ "$hg_hops" -ge 5 ]; then
          http_problem="more than 5 redirects (the 6th to '$(printable "$http_location")'); the installer follows at most 5"
          return 1
        fi
        hg_hops=$((hg_hops + 1))
        next_url "$hg_url" "$http_location" || return 1
        hg_url=$next_url
        ;;
      200)
        final_url=$hg_url
        return 0
        ;;
      *)
        http_problem="HTTP $http_status"
        return 1
        ;;
    esac
  done
}

# next_url URL LOCATION: sets next_url to where LOCATION points from URL, if the rules allow going there:
# from an https:// base only to https://, from an http:// base only to http:// on this machine.
next_url() {
  case $2 in
    http://* | https://*) next_url=$2 ;;
    //*) next_url=${1%%://*}:$2 ;;
    /*)
      nu_authority=${1#*://}
      nu_authority=${nu_authority%%/*}
      nu_authority=${nu_authority%%\?*}
      next_url=${1%%://*}://$nu_authority$2
      ;;
    *)
      http_problem="the server redirected to '$(printable "$2")', which is no absolute URL or path; the installer follows only those"
      return 1
      ;;
  esac
  if ! matches "$next_url" '^[]A-Za-z0-9._~:/%@+=,![?&;#-]+$'; then
    http_problem="the server redirected to '$(printable "$2")', which is no plain URL; refused"
    return 1
  fi
  if [ "$url_scheme" = https ]; then
    case $next_url in
      https://?*) return 0 ;;
      http://*) http_problem="the server redirected to a plain http:// URL, which the installer refuses ('$next_url'): an https:// release may only redirect to https://" ;;
      *) http_problem="the server redirected to '$next_url', which is not https://; refused" ;;
    esac
    return 1
  fi
  if loopback_http "$next_url"; then return 0; fi
  http_problem="the server redirected to '$next_url', which the installer refuses: an http:// release on this machine may only redirect to http:// on 127.0.0.1, localhost or [::1]"
  return 1
}

# http_hop URL FILE CAP: one request, redirects not followed, tried up to three times a second apart
# when the server answers 408, 429 or 5xx (a body that was cut or stalled is not retried: a retry
# would append to it). Sets http_status (empty without a response) and http_location; on failure
# http_problem, non-zero.
http_hop() {
  hh_tries=1
  while ! http_try "$@"; do
    case $http_status in
      408 | 429 | 5??) ;;
      *) return 1 ;;
    esac
    if [ "$hh_tries" -ge 3 ]; then return 1; fi
    hh_tries=$((hh_tries + 1))
    sleep 1
  done
}

# http_try URL FILE CAP: one try of http_hop. The body goes through `head -c`, which ends the
# transfer one byte past CAP: a server that sends more is cut off while it sends.
http_try() {
  hh_url=$1
  hh_out=$2
  hh_cap=$3
  http_status=""
  http_location=""
  rm -f "$hh_out" "$tmp_dir/stderr" "$tmp_dir/rc"
  : >"$tmp_dir/headers"
  case $downloader in
    curl) hop_curl ;;
    gnu-wget) hop_wget ;;
    busybox-wget) hop_busybox || return 1 ;;
  esac
  hh_rc=1
  if [ -f "$tmp_dir/rc" ]; then read -r hh_rc <"$tmp_dir/rc" || hh_rc=1; fi
  read_response_head "$tmp_dir/headers"
  if [ -f "$hh_out" ]; then
    hh_size=$(wc -c <"$hh_out") || hh_size=0
    hh_size=${hh_size##* }
    if [ "$hh_size" -gt "$hh_cap" ]; then
      http_problem="the server sent more than $hh_cap bytes, more than the installer takes for it (cut off while reading)"
      return 1
    fi
  fi
  # curl 63: --max-filesize refused a Content-Length over the cap before reading the body.
  if [ "$downloader" = curl ] && [ "$hh_rc" = 63 ]; then
    http_problem="the server announced more than $hh_cap bytes, more than the installer takes for it"
    return 1
  fi
  if [ "$hh_rc" = 0 ]; then return 0; fi
  case $http_status in
    301 | 302 | 303 | 307 | 308) if [ "$downloader" != curl ]; then return 0; fi ;;
  esac
  if [ -n "$http_status" ] && [ "$http_status" != 200 ]; then
    http_problem="HTTP $http_status"
  else
    http_problem=$(printable "$(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr")")
    http_problem=${http_problem:-$downloader failed without saying why}
  fi
  return 1
}

# read_response_head FILE: the last status and Location in FILE (headers, as each tool writes them).
read_response_head() {
  rh_found=$(awk '
    { sub(/\r$/, "") }
    $1 ~ /^HTTP\// { status = $2; location = "" }
    tolower($1) == "location:" { location = $2 }
    END { print status " " location }' "$1")
  http_status=${rh_found%% *}
  http_location=${rh_found#* }
}

# Connect and idle timeouts (no byte for $timeout seconds), never a cap on the whole transfer.
hop_curl() {
  if [ "$url_scheme" = https ]; then
    set -- --proto =https --tlsv1.2
  else
    set -- --proto =http
  fi
  {
    ch_rc=0
    curl "$@" --max-redirs 0 --fail --silent --show-error \
      --connect-timeout "$timeout" --speed-limit 1 --speed-time "$timeout" --max-filesize "$hh_cap" \
      --dump-header "$tmp_dir/headers" --output - "$hh_url" 2>"$tmp_dir/stderr" </dev/null || ch_rc=$?
    printf '%s\n' "$ch_rc" >"$tmp_dir/rc"
  } | head -c "$((hh_cap + 1))" >"$hh_out"
}

# GNU Wget's --timeout is per connect and per read: an idle timeout.
hop_wget() {
  {
    wh_rc=0
    wget --max-redirect=0 --no-verbose --server-response --tries=1 --timeout="$timeout" \
      --output-document=- "$hh_url" 2>"$tmp_dir/stderr" </dev/null || wh_rc=$?
    printf '%s\n' "$wh_rc" >"$tmp_dir/rc"
  } | head -c "$((hh_cap + 1))" >"$hh_out"
  cp "$tmp_dir/stderr" "$tmp_dir/headers"
}

# BusyBox wget (loopback only) cannot be told not to follow a redirect, so nc asks for URL first, and
# wget fetches only a URL that answered 200. If the server then redirects wget anyway, wget has
# followed it on this machine's loopback or failed, and the installer refuses what it got.
# BusyBox wget's -T crashes BusyBox 1.35: nc's answer is bounded by timeout, wget's by idle_watch.
hop_busybox() {
  bh_rest=${hh_url#http://}
  bh_authority=${bh_rest%%/*}
  case $bh_rest in */*) bh_path=/${bh_rest#*/} ;; *) bh_path=/ ;; esac
  case $bh_authority in
    '[::1]'*) bh_host=::1 bh_port=${bh_authority#\[::1\]} ;;
    *) bh_host=${bh_authority%%:*} bh_port=${bh_authority#"$bh_host"} ;;
  esac
  bh_port=${bh_port#:}
  rm -f "$tmp_dir/head.done"
  {
    bh_rc=0
    # nc ends its side of the connection when its input ends, and a server may then drop the request
    # unanswered: the input stays open (blank lines, which a server skips) until the answer's head is
    # in, and then ends, so that the server closes a body nobody reads.
    {
      printf 'GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: ironclaw-install\r\nConnection: close\r\n\r\n' "$bh_path" "$bh_authority"
      while [ ! -f "$tmp_dir/head.done" ] && { sleep 0.1 2>/dev/null || sleep 1; }; do printf '\r\n' || break; done
    } 2>/dev/null | timeout "$timeout" nc "$bh_host" "${bh_port:-80}" 2>"$tmp_dir/stderr" || bh_rc=$?
    printf '%s\n' "$bh_rc" >"$tmp_dir/rc"
  } | head -c 1048576 | IRONCLAW_DONE=$tmp_dir/head.done awk '
    { sub(/\r$/, "") }
    $0 == "" { printf "" > ENVIRON["IRONCLAW_DONE"]; exit }
    { print }' >"$tmp_dir/headers"
  read_response_head "$tmp_dir/headers"
  case $http_status in
    200) ;;
    "")
      http_problem="no answer from $bh_authority within $timeout seconds (nc asked for $bh_path)"
      return 1
      ;;
    *) return 0 ;;
  esac
  {
    bh_rc=0
    wget -S -O - "$hh_url" 2>"$tmp_dir/stderr" </dev/null &
    printf '%s\n' "$!" >"$tmp_dir/wget.pid"
    wait "$!" || bh_rc=$?
    printf '%s\n' "$bh_rc" >"$tmp_dir/rc"
  } | head -c "$((hh_cap + 1))" >"$hh_out" &
  idle_watch "$!" "$hh_out" "$tmp_dir/wget.pid"
  cp "$tmp_dir/stderr" "$tmp_dir/headers"
  if [ -n "$idle_problem" ]; then
    http_problem=$idle_problem
    return 1
  fi
  if awk '$1 ~ /^HTTP\// && $2 ~ /^3/ { found = 1 } END { exit !found }' "$tmp_dir/headers"; then
    http_problem="the server answered 200 to the installer's check of $hh_url, then redirected BusyBox wget, which follows every redirect; refused"
    return 1
  fi
}

# idle_watch JOB FILE PIDFILE: waits for JOB (a download writing FILE), and ends the process named in
# PIDFILE when FILE has not grown for $timeout seconds: BusyBox wget's own timeout (-T) crashes it.
# Sets idle_problem when it did.
idle_watch() {
  idle_problem=""
  watched_job=$1
  watched_pidfile=$3
  iw_ticks=1
  if sleep 0.1 2>/dev/null; then iw_ticks=10; fi
  iw_last=-1
  iw_idle=0
  while kill -0 "$1" 2>/dev/null; do
    if [ "$iw_ticks" = 10 ]; then sleep 0.1; else sleep 1; fi
    iw_size=0
    if [ -f "$2" ]; then
      iw_size=$(wc -c <"$2") || iw_size=0
      iw_size=${iw_size##* }
    fi
    if [ "$iw_size" = "$iw_last" ]; then iw_idle=$((iw_idle + 1)); else iw_idle=0 iw_last=$iw_size; fi
    if [ "$iw_idle" -ge "$((timeout * iw_ticks))" ]; then
      if [ -f "$3" ] && read -r iw_pid <"$3"; then kill "$iw_pid" 2>/dev/null || true; fi
      idle_problem="no byte for $timeout seconds, after $iw_size bytes"
      break
    fi
  done
  wait "$1" || true
  watched_job=""
}

# download NAME WHAT CAP: an asset of the release into $tmp_dir; a missing one fails with its own message.
download() {
  dl_url=$base_url/download/$tag/$1
  say "Downloading $dl_url"
  if ! http_get "$dl_url" "$tmp_dir/$1" "$3"; then
    if [ "$http_status" = 404 ]; then
      fail 3 "the release $tag has no $1 at $dl_url (HTTP 404): $2. Nothing was installed; check IRONCLAW_VERSION and IRONCLAW_BASE_URL"
    fi
    fail 3 "could not download $dl_url: $http_problem. Nothing was installed; check the network and IRONCLAW_BASE_URL, then run the installer again"
  fi
  if [ "$final_url" != "$dl_url" ]; then say "  from $final_url"; fi
}

# <base>/latest redirects to <base>/tag/<tag> (GitHub) or answers the tag as text (a static mirror).
resolve_tag() {
  if [ -n "$version" ]; then
    tag=v$version
    return 0
  fi
  say "Looking up the latest release at $base_url/latest"
  rt_ok=1
  http_get "$base_url/latest" "$tmp_dir/latest" 65536 latest || rt_ok=0
  if [ "$rt_ok" = 1 ] && [ -n "$http_location" ]; then
    case $http_location in
      */tag/*) rt_found=${http_location##*/tag/} ;;
      *) fail 3 "$base_url/latest redirected to '$(printable "$http_location")', expected <base>/tag/vX.Y.Z. Set IRONCLAW_VERSION=X.Y.Z to choose a release" ;;
    esac
  elif [ "$rt_ok" = 1 ] && [ "$http_status" = 200 ]; then
    rt_found=$(awk 'NR == 1 { sub(/\r$/, ""); print; exit }' "$tmp_dir/latest")
  else
    fail 3 "could not look up the latest release at $base_url/latest: ${http_problem:-HTTP $http_status}. Check the network and IRONCLAW_BASE_URL, or set IRONCLAW_VERSION=X.Y.Z"
  fi
  if ! matches "$rt_found" '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
    fail 3 "$base_url/latest named '$(printable "$rt_found")' as the latest release, expected a tag vX.Y.Z. Set IRONCLAW_VERSION=X.Y.Z to choose a release"
  fi
  tag=$rt_found
  version=${tag#v}
}

# Sets expected_sha256 from the one SHA256SUMS line whose name is exactly the archive's.
expected_checksum() {
  ec_found=$(IRONCLAW_ASSET=$archive awk '
    { sub(/\r$/, "") }
    (substr($0, 65, 2) == "  " || substr($0, 65, 2) == " *") && substr($0, 67) == ENVIRON["IRONCLAW_ASSET"] {
      count++
      digest = tolower(substr($0, 1, 64))
    }
    END { print count + 0, digest }' "$tmp_dir/SHA256SUMS") || fail 3 "awk could not read $tmp_dir/SHA256SUMS"
  ec_count=${ec_found%% *}
  expected_sha256=${ec_found#* }
  if [ "$ec_count" -eq 0 ]; then
    fail 1 "SHA256SUMS of $tag has no line for $archive (a name must match exactly), so the download cannot be checked and nothing was installed. This release may have no build for $target"
  fi
  if [ "$ec_count" -gt 1 ]; then
    fail 1 "SHA256SUMS of $tag lists $archive more than once; a checksum file with two answers is refused. Nothing was installed"
  fi
  if ! matches "$expected_sha256" '^[0-9a-f]+$' || [ "${#expected_sha256}" -ne 64 ]; then
    fail 1 "SHA256SUMS of $tag gives '$expected_sha256' for $archive, expected 64 hexadecimal digits. Nothing was installed"
  fi
}

# Sets actual_sha256 to the SHA-256 of FILE, read on standard input so no file name is misparsed.
hash_file() {
  case $hash_tool in
    sha256sum) hf_out=$(sha256sum <"$1") || fail 3 "sha256sum failed on $1; nothing was installed" ;;
    shasum) hf_out=$(shasum -a 256 <"$1") || fail 3 "shasum -a 256 failed on $1; nothing was installed" ;;
    openssl) hf_out=$(openssl dgst -sha256 <"$1") || fail 3 "openssl dgst -sha256 failed on $1; nothing was installed" ;;
  esac
  case $hash_tool in
    openssl) actual_sha256=${hf_out##* } ;;
    *) actual_sha256=${hf_out%% *} ;;
  esac
  if ! matches "$actual_sha256" '^[0-9a-f]+$' || [ "${#actual_sha256}" -ne 64 ]; then
    fail 3 "$hash_tool printed '$hf_out', expected a SHA-256 digest; nothing was installed"
  fi
}

verify_checksum() {
  expected_checksum
  hash_file "$tmp_dir/$archive"
  if [ "$actual_sha256" != "$expected_sha256" ]; then
    fail 1 "checksum mismatch for $archive: SHA256SUMS says $expected_sha256, the download is $actual_sha256. It was changed or damaged on the way and nothing was installed; run the installer again, and report it if it happens twice"
  fi
  say "Checksum OK: $archive matches SHA256SUMS (sha256 $actual_sha256)"
}

# An ironclaw from an earlier install, else one on PATH, else cosign; none is downloaded by this run.
find_verifier() {
  verifier=""
  verifier_kind=""
  if [ -f "$install_dir/ironclaw" ] && [ -x "$install_dir/ironclaw" ]; then
    verifier=$install_dir/ironclaw
    verifier_kind=ironclaw
  elif has ironclaw; then
    verifier=$(command -v ironclaw)
    verifier_kind=ironclaw
  elif has cosign; then
    verifier=$(command -v cosign)
    verifier_kind=cosign
  elif [ -n "$trusted_root" ]; then
    fail 2 "IRONCLAW_TRUSTED_ROOT is set, but there is no verifier to use it: install cosign, or unset IRONCLAW_TRUSTED_ROOT to check the checksum only"
  fi
}

signer_identity() {
  printf '%s' "https://github.com/$repo/.github/workflows/release.yml@refs/tags/$tag"
}

show_verifier_output() { awk '{ print "  | " $0 }' "$tmp_dir/verifier.out" >&2; }

# Runs the verifier with its output kept; anything but a yes fails closed and shows what it said.
run_verifier() {
  rv_what=$1
  shift
  rv_status=0
  "$verifier" "$@" >"$tmp_dir/verifier.out" 2>&1 </dev/null || rv_status=$?
  if [ "$rv_status" -eq 0 ]; then return 0; fi
  show_verifier_output
  if [ "$rv_status" -eq 1 ]; then
    fail 1 "$verifier rejected $rv_what (its report is above): this is not what $repo's release workflow signed for $tag. Nothing was installed"
  fi
  fail 3 "$verifier could not check $rv_what (exit $rv_status; its report is above). Nothing was installed; fix what it says, or move it out of the way to install with the checksum check alone"
}

verify_signature() {
  if [ -z "$verifier" ]; then
    say "Signature NOT checked: neither an earlier ironclaw nor cosign is installed, so only the checksum was checked."
    say "  That proves the archive is the one SHA256SUMS names, not that SHA256SUMS comes from $repo's release workflow."
    say "  To check the rest by hand, download SHA256SUMS and SHA256SUMS.sigstore.json from $base_url/download/$tag/ and run:"
    say "    cosign verify-blob --bundle SHA256SUMS.sigstore.json --certificate-identity $(signer_identity) --certificate-oidc-issuer https://token.actions.githubusercontent.com SHA256SUMS"
    say "    gh attestation verify $archive --repo $repo"
    return 0
  fi
  attestations=ironclaw_$version.intoto.jsonl
  download SHA256SUMS.sigstore.json "the signature over SHA256SUMS is missing, so $verifier cannot check it" 16777216
  download "$attestations" "the build provenance is missing, so $verifier cannot check it" 16777216
  if [ "$verifier_kind" = ironclaw ]; then
    set -- --dir "$tmp_dir" --repo "$repo" --tag "$tag"
    if [ -n "$trusted_root" ]; then set -- "$@" --trusted-root "$trusted_root"; fi
    run_verifier "the signature or provenance of $archive" verify "$@" "$tmp_dir/$archive"
  else
    set -- --certificate-identity "$(signer_identity)" --certificate-oidc-issuer https://token.actions.githubusercontent.com
    if [ -n "$trusted_root" ]; then set -- "$@" --trusted-root "$trusted_root"; fi
    run_verifier "the signature over SHA256SUMS" verify-blob --bundle "$tmp_dir/SHA256SUMS.sigstore.json" --new-bundle-format "$@" "$tmp_dir/SHA256SUMS"
    cosign_provenance "$tmp_dir/$archive" "$@"
  fi
  say "Signature OK: SHA256SUMS is signed by $(signer_identity), and $archive has its build provenance (checked by $verifier)"
}

# cosign takes one bundle per call: each line of the .intoto.jsonl is tried until one names FILE.
cosign_provenance() {
  cp_file=$1
  shift
  cp_line=0
  while IFS= read -r cp_bundle || [ -n "$cp_bundle" ]; do
    cp_line=$((cp_line + 1))
    printf '%s\n' "$cp_bundle" >"$tmp_dir/attestation.json"
    if "$verifier" verify-blob-attestation --bundle "$tmp_dir/attestation.json" --new-bundle-format \
      --type slsaprovenance1 "$@" "$cp_file" >>"$tmp_dir/verifier.out" 2>&1 </dev/null; then
      return 0
    fi
  done <"$tmp_dir/$attestations"
  show_verifier_output
  fail 1 "$verifier found no build provenance for ${cp_file##*/} in $attestations ($cp_line statement(s) tried; its report is above). Nothing was installed"
}

# Judges the archive from `tar -tv` before extracting anything: every entry a regular file or a
# directory (no hard or symbolic link, no device or FIFO), no absolute path or "..", and exactly one
# regular file `ironclaw`. GNU tar and bsdtar print names as they are; BusyBox tar strips "/" and "../" from them
# and says so on standard error, so anything tar says there refuses the archive. Then only `ironclaw` is
# extracted, and its bytes copied into a file this script created: nothing in the archive can make the
# file that is checked, chmod'ed and run be another file on this machine.
extract() {
  unpacked=$tmp_dir/unpacked
  extracted=$tmp_dir/extracted
  mkdir "$unpacked" "$extracted" || fail 3 "cannot create $unpacked and $extracted"
  # LC_ALL=C: bsdtar names the month in the user's language otherwise.
  LC_ALL=C tar -tvzf "$tmp_dir/$archive" >"$tmp_dir/entries" 2>"$tmp_dir/stderr" ||
    fail 1 "tar cannot list $archive: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr"). Nothing was installed"
  ex_found=$(LC_ALL=C awk '
    {
      type = substr($0, 1, 1)
      name = $0
      # The name follows the date and time: 2024-01-31 12:00 (GNU), 2024-01-31 12:00:00 (BusyBox),
      # or Jan 31 12:00 and Jan 31  2023 (bsdtar, the tar of macOS); whichever comes first.
      iso = match(name, /[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9](:[0-9][0-9])? /)
      iso_end = RSTART + RLENGTH
      iso_start = RSTART
      bsd = match(name, / [A-Z][a-z][a-z] +[0-9]+ +([0-9][0-9]:[0-9][0-9]|[0-9]+) /)
      if (iso && (!bsd || iso_start <= RSTART)) {
        name = substr(name, iso_end)
      } else if (bsd) {
        name = substr(name, RSTART + RLENGTH)
      } else {
        print "unreadable\t" $0
        done = 1
        exit
      }
      # A link: GNU marks it with its type (l, h) and "link to"; BusyBox shows a hard link as "-" with "->".
      if (type != "-" && type != "d" || index($0, " -> ") || index($0, " link to ")) {
        print "link\t" $0
        done = 1
        exit
      }
      if (name ~ /^\// || name ~ /(^|\/)\.\.(\/|$)/) {
        print "outside\t" name
        done = 1
        exit
      }
      if (name == "ironclaw") count++
    }
    END { if (!done) print "count\t" count + 0 }' "$tmp_dir/entries") || fail 3 "awk could not read the listing of $archive"
  ex_kind=${ex_found%%"	"*}
  ex_what=$(printable "${ex_found#*"	"}")
  case $ex_kind in
    outside) fail 1 "$archive holds the entry '$ex_what', which points outside the directory it is extracted into; refused, and nothing was installed" ;;
    link) fail 1 "$archive holds a link or special file ('$ex_what'), expected only regular files and directories: a link can make the installer write, chmod or run a file outside its directory. Refused, and nothing was installed" ;;
    unreadable) fail 1 "tar lists an entry of $archive as '$ex_what', which the installer cannot read; refused, and nothing was installed" ;;
  esac
  if [ -s "$tmp_dir/stderr" ]; then
    fail 1 "tar said, listing $archive: '$(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr")'. An entry whose name tar had to change points outside the directory it is extracted into; refused, and nothing was installed"
  fi
  if [ "$ex_what" != 1 ]; then
    fail 1 "$archive holds $ex_what entries named 'ironclaw', expected exactly one. Nothing was installed"
  fi
  tar -xzf "$tmp_dir/$archive" -C "$unpacked" ironclaw 2>"$tmp_dir/stderr" ||
    fail 3 "tar cannot extract ironclaw from $archive: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr"). Nothing was installed"
  if [ -L "$unpacked/ironclaw" ] || [ ! -f "$unpacked/ironclaw" ]; then
    fail 1 "ironclaw in $archive is not a regular file; refused, and nothing was installed"
  fi
  # A new, empty file of ours first: cp then writes into it, and never follows or reuses what tar made.
  : >"$extracted/ironclaw" || fail 3 "cannot create $extracted/ironclaw"
  cp "$unpacked/ironclaw" "$extracted/ironclaw" 2>"$tmp_dir/stderr" ||
    fail 3 "cannot copy ironclaw out of $unpacked: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr"). Nothing was installed"
  rm -rf "$unpacked"
}

# The ironclaw already at the destination, if it runs and says a version newer than the release,
# is not replaced unless IRONCLAW_ALLOW_DOWNGRADE=1.
check_downgrade() {
  cd_existing=$install_dir/ironclaw
  if [ ! -f "$cd_existing" ] || [ ! -x "$cd_existing" ]; then return 0; fi
  cd_out=$("$cd_existing" --version 2>/dev/null </dev/null) || return 0
  cd_out=${cd_out#v}
  if ! matches "$cd_out" '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then return 0; fi
  if ! version_newer "$cd_out" "$version"; then return 0; fi
  if [ "$allow_downgrade" = 1 ]; then
    say "Downgrading: $cd_existing is ironclaw $cd_out, newer than $version, and IRONCLAW_ALLOW_DOWNGRADE=1"
    return 0
  fi
  fail 1 "$cd_existing is ironclaw $cd_out, newer than the release $tag: the installer does not replace a newer ironclaw with an older one, which may have fixed flaws. Nothing was downloaded; to install $version anyway, set IRONCLAW_ALLOW_DOWNGRADE=1"
}

# version_newer A B: true when version A is newer than B (semantic versioning: numbers compare as
# numbers, a pre-release is older than its release, pre-release fields compare left to right).
version_newer() {
  IRONCLAW_A=$1 IRONCLAW_B=$2 LC_ALL=C awk '
    function cmp(x, y,   xn, yn, xi, yi, n, i, xp, yp) {
      xp = index(x, "-"); yp = index(y, "-")
      xn = split(xp ? substr(x, 1, xp - 1) : x, xi, ".")
      yn = split(yp ? substr(y, 1, yp - 1) : y, yi, ".")
      for (i = 1; i <= 3; i++) if (xi[i] + 0 != yi[i] + 0) return xi[i] + 0 > yi[i] + 0 ? 1 : -1
      if (!xp && !yp) return 0
      if (!xp) return 1
      if (!yp) return -1
      xn = split(substr(x, xp + 1), xi, ".")
      yn = split(substr(y, yp + 1), yi, ".")
      n = xn < yn ? xn : yn
      for (i = 1; i <= n; i++) {
        if (xi[i] == yi[i]) continue
        if (xi[i] ~ /^[0-9]+$/ && yi[i] ~ /^[0-9]+$/) return xi[i] + 0 > yi[i] + 0 ? 1 : -1
        if (xi[i] ~ /^[0-9]+$/) return -1
        if (yi[i] ~ /^[0-9]+$/) return 1
        return xi[i] > yi[i] ? 1 : -1
      }
      return xn == yn ? 0 : (xn > yn ? 1 : -1)
    }
    BEGIN { exit !(cmp(ENVIRON["IRONCLAW_A"], ENVIRON["IRONCLAW_B"]) > 0) }'
}

verify_binary() {
  if [ "$verifier_kind" = ironclaw ]; then
    set -- --dir "$tmp_dir" --repo "$repo" --tag "$tag"
    if [ -n "$trusted_root" ]; then set -- "$@" --trusted-root "$trusted_root"; fi
    run_verifier "the provenance of the ironclaw inside $archive" verify-binary "$extracted/ironclaw" "$@"
    say "Provenance OK: the ironclaw inside $archive was built by $repo's release workflow at $tag"
  elif [ "$verifier_kind" = cosign ]; then
    set -- --certificate-identity "$(signer_identity)" --certificate-oidc-issuer https://token.actions.githubusercontent.com
    if [ -n "$trusted_root" ]; then set -- "$@" --trusted-root "$trusted_root"; fi
    cosign_provenance "$extracted/ironclaw" "$@"
    say "Provenance OK: the ironclaw inside $archive was built by $repo's release workflow at $tag"
  fi
}

# The checked executable must run here and say the version it was downloaded as.
check_version() {
  chmod 0755 "$extracted/ironclaw" || fail 3 "cannot make $extracted/ironclaw executable"
  if ! cv_out=$("$extracted/ironclaw" --version 2>&1 </dev/null); then
    find_node
    cv_hint=""
    if [ -n "$node_version" ]; then cv_hint=" Node.js $node_version is here: the platform-independent ironclaw_${version}_node.tar.gz runs with it."; fi
    fail 3 "the ironclaw in $archive does not run on this machine ('ironclaw --version' said: $cv_out). Nothing was installed.$cv_hint"
  fi
  if [ "$cv_out" != "$version" ]; then
    fail 1 "the ironclaw in $archive says it is version '$cv_out', expected $version. Nothing was installed"
  fi
}

# Copied beside its destination, then renamed over it: the old executable stays until the new one is whole.
install_executable() {
  mkdir -p "$install_dir" 2>"$tmp_dir/stderr" ||
    fail 3 "cannot create $install_dir: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr"). Choose another with IRONCLAW_INSTALL_DIR"
  # mktemp creates the file, so cp writes into ours: a name that held the pid could be guessed, and a
  # link planted there by anyone who can write in the directory would have been written through.
  staged=$(mktemp "$install_dir/.ironclaw.install.XXXXXXXXXX" 2>"$tmp_dir/stderr") || {
    staged=""
    fail 3 "cannot create a file in $install_dir: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr"). Nothing was installed"
  }
  cp "$extracted/ironclaw" "$staged" 2>"$tmp_dir/stderr" ||
    fail 3 "cannot write $staged: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr"). Nothing was installed"
  chmod 0755 "$staged" || fail 3 "cannot make $staged executable; nothing was installed"
  mv -f "$staged" "$install_dir/ironclaw" 2>"$tmp_dir/stderr" ||
    fail 3 "cannot move the new ironclaw into $install_dir: $(awk 'NF { line = $0 } END { print line }' "$tmp_dir/stderr")"
  staged=""
  say "Installed ironclaw $version at $install_dir/ironclaw"
}

# Adds one line to the shell's profile, once; a failure here leaves a working install and a hint.
update_path() {
  case :${PATH:-}: in *":$install_dir:"*) return 0 ;; esac
  up_line="export PATH=\"$install_dir:\$PATH\""
  if [ -n "${IRONCLAW_NO_MODIFY_PATH:-}" ] || [ -z "${HOME:-}" ]; then
    say "$install_dir is not on PATH; to use ironclaw, add it: $up_line"
    return 0
  fi
  case $install_dir in
    *[\"\\\$\`]*)
      say "$install_dir is not on PATH, and its name has characters a profile line would misread; add it by hand"
      return 0
      ;;
  esac
  case ${SHELL:-} in
    */zsh) up_profile=${ZDOTDIR:-$HOME}/.zshrc ;;
    */bash) if [ "$os" = darwin ]; then up_profile=$HOME/.bash_profile; else up_profile=$HOME/.bashrc; fi ;;
    */fish)
      up_profile=$HOME/.config/fish/conf.d/ironclaw.fish
      up_line="fish_add_path \"$install_dir\""
      ;;
    *) up_profile=$HOME/.profile ;;
  esac
  if [ -f "$up_profile" ] && IRONCLAW_LINE=$up_line awk '$0 == ENVIRON["IRONCLAW_LINE"] { found = 1 } END { exit !found }' "$up_profile"; then
    say "$up_profile already adds $install_dir to PATH; open a new shell to use ironclaw"
    return 0
  fi
  if mkdir -p "${up_profile%/*}" 2>/dev/null && printf '\n# Added by the IronClaw installer\n%s\n' "$up_line" >>"$up_profile" 2>/dev/null; then
    say "Added $install_dir to PATH in $up_profile; open a new shell, or run: $up_line"
  else
    warn "could not write $up_profile; to use ironclaw, add this line to your shell profile: $up_line"
  fi
}

main() {
  set -eu
  tmp_dir=""
  staged=""
  watched_job=""
  case $# in
    0) ;;
    *)
      case $1 in
        -h | --help)
          usage
          return 0
          ;;
      esac
      usage >&2
      fail 2 "install.sh takes no arguments, found '$1': it is configured by the environment variables above"
      ;;
  esac
  trap cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM

  read_settings
  detect_platform
  find_downloader
  find_hash_tool
  check_install_dir
  find_verifier
  make_temp_dir
  resolve_tag
  check_downgrade
  archive=ironclaw_${version}_$target.tar.gz
  download SHA256SUMS "without it the archive cannot be checked" 16777216
  download "$archive" "this release may have no build for $target" 536870912
  verify_checksum
  verify_signature
  extract
  verify_binary
  check_version
  install_executable
  update_path
}

main "$@"
