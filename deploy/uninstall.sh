#!/usr/bin/env bash
# Allerac uninstaller: stops and removes the service and the app that install.sh put under a
# prefix. The data (data dir, .env with its secrets, logs) stays unless --purge is given, so a
# later install picks up the same node, memories and mesh key.
#
#   bash deploy/uninstall.sh [--prefix DIR] [--purge] [--yes] [--dry-run]
set -Eeuo pipefail

ok() { printf '[ OK ] %s\n' "$*"; }
info() { printf '[INFO] %s\n' "$*"; }
plan() { printf '[PLAN] %s\n' "$*"; }
die() {
  printf '[FAIL] %s\n' "$1" >&2
  shift
  local step
  for step in "$@"; do
    printf '       next: %s\n' "$step" >&2
  done
  exit 1
}
trap 'printf "[FAIL] unexpected error at line %s: %s\n       next: re-run the same command; it is safe to re-run\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

usage() {
  cat <<'EOF'
Usage: uninstall.sh [options]

Stops the Allerac node and removes its service and app. Keeps the data unless --purge.

Options:
  --prefix DIR   the install prefix (default: /opt/allerac as root, ~/.allerac otherwise)
  --purge        also delete the data dir, .env (secrets), logs and, in Docker mode, the volumes
  --yes, -y      do not ask for confirmation
  --dry-run      print what would be removed and change nothing
  --help, -h     show this help
EOF
}

EUID_NOW=${EUID:-$(id -u)}
PREFIX=''
PURGE=0
YES=0
DRY_RUN=0

while [[ $# -gt 0 ]]; do
  arg=$1
  if [[ $arg == --*=* ]]; then
    set -- "${arg%%=*}" "${arg#*=}" "${@:2}"
    arg=$1
  fi
  case $arg in
    --prefix)
      [[ $# -ge 2 && -n $2 ]] || die "--prefix needs a value" "see: bash uninstall.sh --help"
      PREFIX=$2
      shift
      ;;
    --purge) PURGE=1 ;;
    --yes | -y) YES=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --help | -h)
      usage
      exit 0
      ;;
    *) die "unknown option: $arg" "see: bash uninstall.sh --help" ;;
  esac
  shift
done

if [[ -z $PREFIX ]]; then
  if [[ $EUID_NOW == 0 ]]; then PREFIX=/opt/allerac; else PREFIX=$HOME/.allerac; fi
fi
[[ $PREFIX == /* ]] || PREFIX=$PWD/$PREFIX
PREFIX=${PREFIX%/}

# install.conf marks a directory install.sh made; without it nothing is deleted, so a wrong
# --prefix can never remove an unrelated directory.
CONF=$PREFIX/install.conf
[[ -f $CONF ]] || die "$PREFIX is not an Allerac install (no install.conf)" \
  "pass the prefix you installed to: bash uninstall.sh --prefix DIR"
conf() { sed -n "s/^$1=//p" "$CONF" | tail -n 1; }
MODE=$(conf MODE)
INIT=$(conf INIT)

run() {
  if [[ $DRY_RUN == 1 ]]; then plan "would run: $*"; else "$@"; fi
}
remove() {
  local path
  for path in "$@"; do
    if [[ -e $path || -L $path ]]; then
      if [[ $DRY_RUN == 1 ]]; then plan "would remove $path"; else rm -rf "$path"; fi
    fi
  done
}

if [[ $YES != 1 && $DRY_RUN != 1 ]]; then
  what="the Allerac app and service in $PREFIX"
  [[ $PURGE == 1 ]] && what="$what AND ALL ITS DATA"
  if { : </dev/tty; } 2>/dev/null; then
    printf '[ASK ] Remove %s? [y/N] ' "$what" >/dev/tty
    read -r answer </dev/tty || answer=''
    [[ $answer == y || $answer == Y || $answer == yes ]] || die "nothing removed" "re-run and answer y, or pass --yes"
  else
    die "no terminal to confirm the removal of $what" "re-run with --yes"
  fi
fi

[[ $DRY_RUN == 1 ]] && info "dry run: printing the plan; nothing on this machine changes"
info "uninstalling Allerac ($MODE mode) from $PREFIX"

if [[ $MODE == docker ]]; then
  compose_file=$(conf COMPOSE_FILE)
  down=(docker compose --project-name allerac --env-file "$PREFIX/.env")
  [[ -f $compose_file ]] && down+=(-f "$compose_file")
  down+=(--profile ollama --profile monitoring down --remove-orphans)
  [[ $PURGE == 1 ]] && down+=(--volumes)
  if command -v docker >/dev/null 2>&1 || [[ $DRY_RUN == 1 ]]; then
    run "${down[@]}"
    ok "containers stopped and removed$([[ $PURGE == 1 ]] && echo ', with their volumes')"
  else
    info "docker is not installed any more; no containers to stop"
  fi
else
  # Stop the node through the script install.sh wrote, whatever the init system.
  if [[ -x $PREFIX/bin/allerac-service ]]; then
    run "$PREFIX/bin/allerac-service" stop
  fi
  case $INIT in
    systemd)
      unit=$(conf SYSTEMD_UNIT_PATH)
      systemctl=(systemctl)
      [[ $unit == /etc/* ]] || systemctl=(systemctl --user)
      run "${systemctl[@]}" disable allerac.service || true
      remove "$unit"
      run "${systemctl[@]}" daemon-reload || true
      ;;
    launchd)
      remove "$(conf LAUNCHD_PLIST)"
      ;;
    *) ;;
  esac
  if [[ -f $PREFIX/run/ollama.pid ]] && kill -0 "$(cat "$PREFIX/run/ollama.pid")" 2>/dev/null; then
    # Only an Ollama the installer started in the background; a system Ollama stays.
    run kill "$(cat "$PREFIX/run/ollama.pid")"
  fi
  [[ $DRY_RUN == 1 ]] || ok "service stopped and removed"
fi

remove "$PREFIX/current" "$PREFIX/versions" "$PREFIX/bin" "$PREFIX/runtime" "$PREFIX/run"
if [[ $PURGE == 1 ]]; then
  if [[ $EUID_NOW == 0 && -f $PREFIX/.user-created ]] && id allerac >/dev/null 2>&1; then
    run userdel allerac
  fi
  remove "$PREFIX"
  if [[ $DRY_RUN == 1 ]]; then ok "dry run complete: nothing was changed"; else ok "removed $PREFIX with all its data"; fi
else
  # install.conf stays, marked, so a later --purge still recognizes this prefix.
  if [[ $DRY_RUN != 1 ]]; then printf 'STATE=uninstalled\n' >>"$CONF"; fi
  if [[ $DRY_RUN == 1 ]]; then
    ok "dry run complete: nothing was changed"
  else
    ok "removed the app; kept the data in $PREFIX (data/, .env, logs/)"
    info "a later install.sh --prefix $PREFIX picks it up again; delete it with: bash uninstall.sh --purge"
  fi
fi
