#!/usr/bin/env bash
# Allerac appliance installer: one command turns a mini-PC, laptop or home server into an
# Allerac node.
#
#   curl -fsSL <url>/install.sh | bash                  # from a release
#   bash deploy/install.sh                              # from a checkout of the repository
#   bash deploy/install.sh --dry-run                    # print the plan, change nothing
#
# Re-running it is safe: it keeps the secrets and data, installs the new version beside the old
# one, switches the `current` symlink and restarts the node.
#
# Tests read the machine's facts through override variables instead of the real files, so they
# never have to touch the machine: ALLERAC_OS_RELEASE (path of an os-release file),
# ALLERAC_UNAME_S, ALLERAC_UNAME_M, ALLERAC_MACOS_VERSION, ALLERAC_DEVICE_MODEL, ALLERAC_MEM_BYTES,
# ALLERAC_SWAP_BYTES, ALLERAC_DISK_FREE_BYTES, ALLERAC_CPU_CORES, ALLERAC_INIT
# (systemd|launchd|background), ALLERAC_NONINTERACTIVE=1 (every question gets its default answer).
# Other knobs: ALLERAC_NODE (Node.js binary to use), ALLERAC_HEALTH_TIMEOUT (seconds, default 120),
# ALLERAC_SWAPFILE (default /swapfile).
set -Eeuo pipefail

# ---------------------------------------------------------------------------------------------
# Constants. The hardware figures mirror the table in docs/local-setup.md; change both together.
# ---------------------------------------------------------------------------------------------
readonly GIB=1073741824
readonly MIN_RAM_GB=4
readonly REC_RAM_GB=16
readonly MIN_DISK_GB=10
readonly REC_DISK_GB=50
readonly MIN_CORES=2
readonly REC_CORES=4
# Below REC_RAM_GB of RAM a model plus the OS can outgrow memory; 8 GB of swap turns the
# resulting hard freeze into a slowdown.
readonly WANT_SWAP_GB=8
readonly NODE_MAJOR_MIN=22
readonly NODE_MAJOR_INSTALL=24
readonly SERVICE_LABEL=net.allerac.node

# ---------------------------------------------------------------------------------------------
# Output. Every failure says what to do next.
# ---------------------------------------------------------------------------------------------
ok() { printf '[ OK ] %s\n' "$*"; }
info() { printf '[INFO] %s\n' "$*"; }
warn() { printf '[WARN] %s\n' "$*"; }
plan() { printf '[PLAN] %s\n' "$*"; }
# die MESSAGE NEXT-STEP...: print the failure and each next step, then exit 1.
die() {
  printf '[FAIL] %s\n' "$1" >&2
  shift
  local step
  for step in "$@"; do
    printf '       next: %s\n' "$step" >&2
  done
  exit 1
}
on_error() {
  printf '[FAIL] unexpected error at line %s: %s\n' "$1" "$2" >&2
  printf '       next: re-run the same command (it is safe to re-run); if it fails again, run it with\n' >&2
  printf '             "bash -x" and report the output at the project issue tracker\n' >&2
}

# run CMD...: run a command, or print it in a dry run.
run() {
  if [[ $DRY_RUN == 1 ]]; then
    plan "would run: $*"
  else
    "$@"
  fi
}

# as_root CMD...: run a command as root, through sudo when not root already.
as_root() {
  if [[ $DRY_RUN == 1 ]]; then
    if [[ $EUID_NOW == 0 ]]; then plan "would run: $*"; else plan "would run: sudo $*"; fi
    return 0
  fi
  if [[ $EUID_NOW == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "this step needs root: $*" "re-run as root (sudo bash install.sh ...), or install sudo"
  fi
}

# ask QUESTION: yes/no question. --yes answers yes; with no terminal the answer is no.
ask() {
  if [[ $YES == 1 ]]; then
    info "$1 yes (--yes)"
    return 0
  fi
  if [[ $DRY_RUN == 1 || ${ALLERAC_NONINTERACTIVE:-0} == 1 ]] || ! { : </dev/tty; } 2>/dev/null; then
    info "$1 no (no terminal to ask; pass --yes to answer yes)"
    return 1
  fi
  local answer=''
  printf '[ASK ] %s [y/N] ' "$1" >/dev/tty
  read -r answer </dev/tty || answer=''
  [[ $answer == y || $answer == Y || $answer == yes || $answer == YES ]]
}

gb() { awk -v b="$1" -v g="$GIB" 'BEGIN { printf "%.1f", b / g }'; }

usage() {
  cat <<'EOF'
Usage: install.sh [options]

Installs an Allerac node on Ubuntu, Debian, Raspberry Pi OS (64-bit) or macOS.

Options:
  --native            install the node as a service on this machine (default)
  --docker            run the node with Docker compose (deploy/docker-compose.local.yml)
  --prefix DIR        where to install (default: /opt/allerac as root, ~/.allerac otherwise)
  --model NAME        Ollama model to pull (default: recommended by RAM)
  --no-ollama         do not install Ollama or pull a model
  --join CODE         join an existing mesh with a pairing code
  --name NAME         this node's name (default: the host name)
  --http-port PORT    web UI and API port (default 8080)
  --http-host ADDR    address to listen on (default 0.0.0.0, the whole home network)
  --p2p-port PORT     mesh port (default 4001)
  --source PATH|URL   install from this checkout or release tarball (default: this checkout)
  --no-swap           never offer to add swap
  --yes, -y           answer yes to every question
  --dry-run           print the plan and change nothing
  --help, -h          show this help

Without systemd (containers, some CI machines) the node runs in the background through
<prefix>/bin/allerac-service start|stop|restart|status, with a pidfile and a log file.
EOF
}

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------
MODE=native
PREFIX=''
MODEL=''
JOIN=''
NODE_NAME=''
HTTP_PORT=8080
HTTP_PORT_SET=0
HTTP_HOST=0.0.0.0
HTTP_HOST_SET=0
P2P_PORT=4001
P2P_PORT_SET=0
NO_OLLAMA=0
NO_SWAP=0
YES=0
DRY_RUN=0
SOURCE=''
EUID_NOW=${EUID:-$(id -u)}

need_value() {
  [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value" "see: bash install.sh --help"
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    local arg=$1
    # Accept --flag=value as well as --flag value.
    if [[ $arg == --*=* ]]; then
      set -- "${arg%%=*}" "${arg#*=}" "${@:2}"
      arg=$1
    fi
    case $arg in
      --native) MODE=native ;;
      --docker) MODE=docker ;;
      --prefix) need_value "$@"; PREFIX=$2; shift ;;
      --model) need_value "$@"; MODEL=$2; shift ;;
      --join) need_value "$@"; JOIN=$2; shift ;;
      --name) need_value "$@"; NODE_NAME=$2; shift ;;
      --http-port) need_value "$@"; HTTP_PORT=$2; HTTP_PORT_SET=1; shift ;;
      --http-host) need_value "$@"; HTTP_HOST=$2; HTTP_HOST_SET=1; shift ;;
      --p2p-port) need_value "$@"; P2P_PORT=$2; P2P_PORT_SET=1; shift ;;
      --source) need_value "$@"; SOURCE=$2; shift ;;
      --no-ollama) NO_OLLAMA=1 ;;
      --no-swap) NO_SWAP=1 ;;
      --yes | -y) YES=1 ;;
      --dry-run) DRY_RUN=1 ;;
      --help | -h) usage; exit 0 ;;
      *) die "unknown option: $arg" "see: bash install.sh --help" ;;
    esac
    shift
  done
  local port
  for port in "$HTTP_PORT" "$P2P_PORT"; do
    [[ $port =~ ^[0-9]+$ && $port -le 65535 ]] || die "not a port number: $port" "pass a number from 1 to 65535"
  done
  [[ $HTTP_PORT != 0 ]] || die "--http-port cannot be 0: the installer must know where to check health" "pass a free port, e.g. --http-port 8080"
  if [[ -n $MODEL && ! $MODEL =~ ^[A-Za-z0-9._:/-]+$ ]]; then
    die "not a model name: $MODEL" "pass a name as Ollama spells it, e.g. --model llama3.2:3b"
  fi
  if [[ -n $JOIN && ! $JOIN =~ ^[A-Za-z0-9._:+/=-]+$ ]]; then
    die "the join code has unexpected characters" "copy the code again from the other node's web UI"
  fi
  if [[ -z $NODE_NAME ]]; then
    NODE_NAME=$(hostname 2>/dev/null || echo allerac)
    NODE_NAME=${NODE_NAME%%.*}
  fi
  # The name goes into .env unquoted, so it keeps to a safe alphabet.
  NODE_NAME=$(printf '%s' "$NODE_NAME" | tr -c 'A-Za-z0-9._-' '-')
  if [[ -z $PREFIX ]]; then
    if [[ $EUID_NOW == 0 ]]; then PREFIX=/opt/allerac; else PREFIX=$HOME/.allerac; fi
  fi
  [[ $PREFIX == /* ]] || PREFIX=$PWD/$PREFIX
  PREFIX=${PREFIX%/}
  [[ -n $PREFIX && $PREFIX != / ]] || die "refusing to install into /" "pass a dedicated directory, e.g. --prefix /opt/allerac"
}

# ---------------------------------------------------------------------------------------------
# Facts about the machine (each can be overridden for tests)
# ---------------------------------------------------------------------------------------------
OS_KIND=''
OS_PRETTY=''
OS_ARCH=''
UNAME_S=''

# os_field KEY FILE: a value from an os-release file, without sourcing it.
os_field() {
  sed -n "s/^$1=//p" "$2" 2>/dev/null | head -n 1 | sed -e 's/^"//' -e 's/"$//' -e "s/^'//" -e "s/'$//"
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" == "$2" ]]
}

detect_os() {
  UNAME_S=${ALLERAC_UNAME_S:-$(uname -s)}
  local machine=${ALLERAC_UNAME_M:-$(uname -m)}
  case $machine in
    x86_64 | amd64) OS_ARCH=x64 ;;
    aarch64 | arm64) OS_ARCH=arm64 ;;
    *)
      die "the $machine architecture is not supported (Node.js $NODE_MAJOR_INSTALL and Ollama need 64-bit x86 or ARM)" \
        "use a 64-bit machine; on a Raspberry Pi install the 64-bit Raspberry Pi OS"
      ;;
  esac
  local supported=1
  case $UNAME_S in
    Darwin)
      local version=${ALLERAC_MACOS_VERSION:-$(sw_vers -productVersion 2>/dev/null || echo 0)}
      OS_KIND=macos
      OS_PRETTY="macOS $version"
      version_ge "$version" 13 || warn "macOS $version is older than the tested 13 (Ventura); continuing"
      ;;
    Linux)
      local release=${ALLERAC_OS_RELEASE:-/etc/os-release}
      [[ -r $release ]] || die "cannot read $release to tell which Linux this is" "run on Ubuntu, Debian or Raspberry Pi OS"
      local id version_id model
      id=$(os_field ID "$release")
      version_id=$(os_field VERSION_ID "$release")
      OS_PRETTY=$(os_field PRETTY_NAME "$release")
      [[ -n $OS_PRETTY ]] || OS_PRETTY="$id $version_id"
      model=${ALLERAC_DEVICE_MODEL:-$(tr -d '\0' 2>/dev/null </proc/device-tree/model || true)}
      case $id in
        raspbian)
          die "this is the 32-bit Raspberry Pi OS; Node.js $NODE_MAJOR_INSTALL and Ollama need the 64-bit one" \
            "flash the 64-bit Raspberry Pi OS (Raspberry Pi Imager, 'Raspberry Pi OS (64-bit)') and run this again"
          ;;
        debian)
          if [[ $model == *"Raspberry Pi"* ]]; then
            OS_KIND=raspios
            OS_PRETTY="Raspberry Pi OS ($OS_PRETTY) on $model"
          else
            OS_KIND=debian
          fi
          version_ge "${version_id:-0}" 12 || warn "$OS_PRETTY is older than the tested Debian 12; continuing"
          ;;
        ubuntu)
          OS_KIND=ubuntu
          version_ge "${version_id:-0}" 22.04 || warn "$OS_PRETTY is older than the tested Ubuntu 22.04; continuing"
          ;;
        *)
          OS_KIND=other
          supported=0
          ;;
      esac
      ;;
    *)
      OS_KIND=other
      OS_PRETTY=$UNAME_S
      supported=0
      ;;
  esac
  if [[ $supported == 0 ]]; then
    printf '[FAIL] %s (%s) is not a supported OS (supported: Ubuntu, Debian, Raspberry Pi OS 64-bit, macOS)\n' "$OS_PRETTY" "$OS_KIND" >&2
    if ask "Continue at your own risk?"; then
      warn "continuing on an unsupported OS at your own risk"
    else
      die "refusing to install on $OS_PRETTY" \
        "install on Ubuntu, Debian, Raspberry Pi OS or macOS, or re-run with --yes to try anyway" \
        "or use Docker: bash install.sh --docker --yes"
    fi
  else
    ok "OS: $OS_PRETTY ($OS_KIND, $OS_ARCH)"
  fi
}

MEM_BYTES=0
SWAP_BYTES=0
DISK_FREE_BYTES=0
CPU_CORES=0

meminfo_bytes() { awk -v k="$1:" '$1 == k { printf "%.0f", $2 * 1024 }' /proc/meminfo 2>/dev/null || echo 0; }

# existing_parent DIR: the nearest directory that exists, for measuring free space before install.
existing_parent() {
  local dir=$1
  while [[ ! -d $dir ]]; do dir=$(dirname "$dir"); done
  printf '%s' "$dir"
}

detect_hardware() {
  if [[ $UNAME_S == Darwin ]]; then
    MEM_BYTES=${ALLERAC_MEM_BYTES:-$(sysctl -n hw.memsize 2>/dev/null || echo 0)}
    CPU_CORES=${ALLERAC_CPU_CORES:-$(sysctl -n hw.ncpu 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 0)}
    SWAP_BYTES=${ALLERAC_SWAP_BYTES:-0}
  else
    MEM_BYTES=${ALLERAC_MEM_BYTES:-$(meminfo_bytes MemTotal)}
    SWAP_BYTES=${ALLERAC_SWAP_BYTES:-$(meminfo_bytes SwapTotal)}
    CPU_CORES=${ALLERAC_CPU_CORES:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 0)}
  fi
  DISK_FREE_BYTES=${ALLERAC_DISK_FREE_BYTES:-$(df -Pk "$(existing_parent "$PREFIX")" | awk 'NR == 2 { printf "%.0f", $4 * 1024 }')}
}

check_hardware() {
  detect_hardware
  local ram_gb disk_gb swap_gb low=()
  ram_gb=$(gb "$MEM_BYTES")
  disk_gb=$(gb "$DISK_FREE_BYTES")
  swap_gb=$(gb "$SWAP_BYTES")
  if ((MEM_BYTES < MIN_RAM_GB * GIB)); then
    printf '[FAIL] RAM: %s GB, below the minimum of %s GB\n' "$ram_gb" "$MIN_RAM_GB" >&2
    low+=(RAM)
  elif ((MEM_BYTES < REC_RAM_GB * GIB)); then
    ok "RAM: $ram_gb GB (enough for 3B models; $REC_RAM_GB GB recommended for 7-8B models)"
  else
    ok "RAM: $ram_gb GB"
  fi
  if ((DISK_FREE_BYTES < MIN_DISK_GB * GIB)); then
    printf '[FAIL] disk: %s GB free under %s, below the minimum of %s GB\n' "$disk_gb" "$(existing_parent "$PREFIX")" "$MIN_DISK_GB" >&2
    low+=(disk)
  elif ((DISK_FREE_BYTES < REC_DISK_GB * GIB)); then
    ok "disk: $disk_gb GB free (enough to start; $REC_DISK_GB GB recommended for several models)"
  else
    ok "disk: $disk_gb GB free"
  fi
  if ((CPU_CORES < MIN_CORES)); then
    printf '[FAIL] CPU: %s cores, below the minimum of %s\n' "$CPU_CORES" "$MIN_CORES" >&2
    low+=(CPU)
  elif ((CPU_CORES < REC_CORES)); then
    ok "CPU: $CPU_CORES cores ($REC_CORES recommended)"
  else
    ok "CPU: $CPU_CORES cores"
  fi
  if ((${#low[@]} > 0)); then
    if ask "This machine is below the minimum (${low[*]}); continue at your own risk?"; then
      warn "continuing below the minimum hardware at your own risk"
    else
      die "this machine is below the minimum hardware (${low[*]}); see the hardware table in docs/local-setup.md" \
        "free disk space or use a bigger machine, or re-run with --yes to try anyway"
    fi
  fi
  check_swap "$swap_gb"
}

# check_swap: with little RAM and little swap a large model freezes the machine; offer a swapfile.
check_swap() {
  local swap_gb=$1
  if [[ $UNAME_S == Darwin ]]; then
    info "swap: macOS manages swap itself"
    return 0
  fi
  if ((MEM_BYTES >= REC_RAM_GB * GIB)); then
    ok "swap: $swap_gb GB (not needed with $(gb "$MEM_BYTES") GB of RAM)"
    return 0
  fi
  if ((SWAP_BYTES >= WANT_SWAP_GB * GIB)); then
    ok "swap: $swap_gb GB"
    return 0
  fi
  local add_gb=$(((WANT_SWAP_GB * GIB - SWAP_BYTES + GIB - 1) / GIB))
  local swapfile=${ALLERAC_SWAPFILE:-/swapfile}
  warn "swap: $swap_gb GB with $(gb "$MEM_BYTES") GB of RAM; a model that outgrows memory can freeze this machine"
  info "swap advice: add a ${add_gb} GB swapfile so the total is $WANT_SWAP_GB GB (see 'Why your mini-PC freezes' in docs/local-setup.md)"
  if [[ $NO_SWAP == 1 ]]; then
    info "swap: not adding any (--no-swap)"
    return 0
  fi
  if [[ -e $swapfile ]]; then
    warn "swap: $swapfile already exists; not touching it (enable it with: sudo swapon $swapfile)"
    return 0
  fi
  if ((DISK_FREE_BYTES < (add_gb + MIN_DISK_GB) * GIB)); then
    warn "swap: not enough free disk for a ${add_gb} GB swapfile plus the app; free some space and add swap by hand"
    return 0
  fi
  if [[ $DRY_RUN == 1 ]]; then
    plan "would offer to add a ${add_gb} GB swapfile at $swapfile (and list it in /etc/fstab)"
    return 0
  fi
  if ask "Add a ${add_gb} GB swapfile at $swapfile?"; then
    as_root sh -c "fallocate -l ${add_gb}G '$swapfile' || dd if=/dev/zero of='$swapfile' bs=1M count=$((add_gb * 1024))"
    as_root chmod 600 "$swapfile"
    as_root mkswap "$swapfile" >/dev/null
    as_root swapon "$swapfile"
    if ! grep -qs "^$swapfile " /etc/fstab; then
      as_root sh -c "printf '%s none swap sw 0 0\n' '$swapfile' >> /etc/fstab"
    fi
    ok "swap: added a ${add_gb} GB swapfile at $swapfile"
  else
    warn "swap: left as is; if the machine freezes, add swap as docs/local-setup.md shows"
  fi
}

# recommend_model: the largest model family that fits the RAM with room for the OS and the node.
recommend_model() {
  if [[ -n $MODEL ]]; then
    info "model: $MODEL (--model)"
    return 0
  fi
  if ((MEM_BYTES < 16 * GIB)); then
    MODEL=llama3.2:3b
  elif ((MEM_BYTES < 32 * GIB)); then
    MODEL=llama3.1:8b
  elif ((MEM_BYTES < 64 * GIB)); then
    MODEL=qwen2.5:14b
  else
    MODEL=qwen2.5:32b
  fi
  info "model: $MODEL recommended for $(gb "$MEM_BYTES") GB of RAM (override with --model)"
}

# ---------------------------------------------------------------------------------------------
# Shared steps
# ---------------------------------------------------------------------------------------------
SCRIPT_DIR=''
SOURCE_DIR=''
TMP_DIR=''
APP_VERSION=''
INIT=''

cleanup() {
  if [[ -n $TMP_DIR && -d $TMP_DIR ]]; then rm -rf "$TMP_DIR"; fi
}

# resolve_source: the directory holding the app (a checkout, or an unpacked release tarball).
resolve_source() {
  if [[ -z $SOURCE ]]; then
    if [[ -n $SCRIPT_DIR && -f $SCRIPT_DIR/../packages/node/package.json ]]; then
      SOURCE_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
    else
      die "no Allerac checkout next to this script, and no --source given" \
        "clone the repository and run: bash deploy/install.sh" \
        "or pass a release: --source <path or https URL of allerac-<version>.tar.gz>"
    fi
  elif [[ -d $SOURCE ]]; then
    SOURCE_DIR=$(cd "$SOURCE" && pwd)
  else
    local tarball=$SOURCE
    if [[ $DRY_RUN == 1 ]]; then
      plan "would unpack the release $SOURCE"
      SOURCE_DIR=$SOURCE
      APP_VERSION=release
      return 0
    fi
    TMP_DIR=$(mktemp -d)
    if [[ $SOURCE == http://* || $SOURCE == https://* ]]; then
      tarball=$TMP_DIR/release.tar.gz
      curl -fsSL "$SOURCE" -o "$tarball" </dev/null || die "could not download $SOURCE" "check the URL and the network, then re-run"
    fi
    [[ -f $tarball ]] || die "--source $SOURCE is neither a directory, a file nor a URL" "pass a checkout directory or a release tarball"
    mkdir -p "$TMP_DIR/src"
    tar -xzf "$tarball" -C "$TMP_DIR/src" || die "could not unpack $tarball" "download the release again; it may be truncated"
    # A release tarball holds one top-level directory (allerac-<version>/) or the tree itself.
    if [[ -f $TMP_DIR/src/packages/node/package.json ]]; then
      SOURCE_DIR=$TMP_DIR/src
    else
      SOURCE_DIR=$(find "$TMP_DIR/src" -mindepth 2 -maxdepth 4 -path '*/packages/node/package.json' | head -n 1)
      SOURCE_DIR=${SOURCE_DIR%/packages/node/package.json}
      [[ -n $SOURCE_DIR ]] || die "$tarball holds no Allerac app (no packages/node/package.json)" "pass an Allerac release tarball"
    fi
  fi
  APP_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$SOURCE_DIR/packages/node/package.json" | head -n 1)
  [[ -n $APP_VERSION ]] || die "cannot read the version from $SOURCE_DIR/packages/node/package.json" "check that the checkout is complete"
  ok "source: $SOURCE_DIR (version $APP_VERSION)"
}

# random_secret: 48 hex characters from the kernel's generator; hex keeps .env parsing trivial.
random_secret() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

# env_value KEY FILE: a value from an existing .env (empty when absent).
env_value() {
  if [[ -f $2 ]]; then sed -n "s/^$1=//p" "$2" | tail -n 1; fi
}

# pair_value KIND KEY PAIRS...: the value for KEY among PAIRS; KIND "forced" matches !KEY=V,
# "default" matches KEY=V. Fails when absent. (No associative arrays: macOS ships bash 3.2.)
pair_value() {
  local kind=$1 key=$2 pair want
  shift 2
  if [[ $kind == forced ]]; then want="!$key="; else want="$key="; fi
  for pair in "$@"; do
    if [[ $pair == "$want"* ]]; then
      printf '%s' "${pair#*=}"
      return 0
    fi
  done
  return 1
}

# write_env PAIRS...: create or update <prefix>/.env from .env.local.example. Values already in
# .env are kept (secrets above all); "!KEY=V" pairs (flags given on this run) replace them, and
# "KEY=V" pairs only fill gaps.
write_env() {
  local example=$SOURCE_DIR/deploy/.env.local.example
  local target=$PREFIX/.env
  [[ -f $example ]] || example=$SCRIPT_DIR/.env.local.example
  [[ -f $example ]] || die "cannot find .env.local.example in the source" "re-download the release or update the checkout"
  if [[ $DRY_RUN == 1 ]]; then
    if [[ -f $target ]]; then plan "would update $target (keeping its secrets)"; else plan "would write $target from .env.local.example with new secrets"; fi
    return 0
  fi
  local tmp=$target.tmp.$$ line key value
  (
    umask 077
    : >"$tmp"
  )
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ ! $line =~ ^[A-Z][A-Z0-9_]*= ]]; then
      printf '%s\n' "$line" >>"$tmp"
      continue
    fi
    key=${line%%=*}
    value=${line#*=}
    if pair_value forced "$key" "$@" >/dev/null; then
      value=$(pair_value forced "$key" "$@")
    elif [[ -f $target ]] && grep -q "^$key=" "$target"; then
      value=$(env_value "$key" "$target")
    elif pair_value default "$key" "$@" >/dev/null; then
      value=$(pair_value default "$key" "$@")
    elif [[ $value == __GENERATE__ ]]; then
      value=$(random_secret)
    fi
    printf '%s=%s\n' "$key" "$value" >>"$tmp"
  done <"$example"
  # Keep variables the user added by hand.
  if [[ -f $target ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line =~ ^[A-Z][A-Z0-9_]*= ]] || continue
      key=${line%%=*}
      grep -q "^$key=" "$tmp" || printf '%s\n' "$line" >>"$tmp"
    done <"$target"
  fi
  mv "$tmp" "$target"
  ok "settings: $target (secrets kept across re-runs)"
}

# flag_pair SET KEY VALUE: "!KEY=VALUE" when the flag was given on this run, else "KEY=VALUE".
flag_pair() {
  if [[ $1 == 1 ]]; then printf '!%s=%s' "$2" "$3"; else printf '%s=%s' "$2" "$3"; fi
}

# port_busy PORT: true when something accepts connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# health_url: where this machine reaches the node's /health.
health_url() {
  local host=$HTTP_HOST
  if [[ $host == 0.0.0.0 || $host == :: || $host == '[::]' ]]; then host=127.0.0.1; fi
  printf 'http://%s:%s/health' "$host" "$HTTP_PORT"
}

# wait_health: poll /health, bounded by ALLERAC_HEALTH_TIMEOUT seconds.
wait_health() {
  local url timeout deadline
  url=$(health_url)
  timeout=${ALLERAC_HEALTH_TIMEOUT:-120}
  if [[ $DRY_RUN == 1 ]]; then
    plan "would wait up to ${timeout}s for $url"
    return 0
  fi
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if curl -fsS --max-time 5 "$url" >/dev/null 2>&1 </dev/null; then
      ok "the node is healthy: $url"
      return 0
    fi
    if [[ -n ${1:-} ]] && ! "$1"; then
      break
    fi
    sleep 1
  done
  return 1
}

lan_address() {
  local ip=''
  if [[ $UNAME_S == Darwin ]]; then
    ip=$(ipconfig getifaddr en0 2>/dev/null || ipconfig getifaddr en1 2>/dev/null || true)
  else
    ip=$(hostname -I 2>/dev/null | awk '{ print $1 }' || true)
  fi
  printf '%s' "${ip:-<this-machine>}"
}

ollama_url() {
  local url
  url=$(env_value OLLAMA_HOST "$PREFIX/.env")
  printf '%s' "${url:-${OLLAMA_HOST:-http://127.0.0.1:11434}}"
}

ollama_up() { curl -fsS --max-time 3 "$(ollama_url)/api/version" >/dev/null 2>&1 </dev/null; }

# ensure_ollama: use a running Ollama, start an installed one, or install it.
ensure_ollama() {
  if [[ $NO_OLLAMA == 1 ]]; then
    info "Ollama: skipped (--no-ollama); the node reports its backend as down until one runs at $(ollama_url)"
    return 0
  fi
  if ollama_up; then
    ok "Ollama: running at $(ollama_url)"
    return 0
  fi
  if ! command -v ollama >/dev/null 2>&1; then
    if [[ $UNAME_S == Darwin ]]; then
      if [[ $DRY_RUN == 1 ]] || command -v brew >/dev/null 2>&1; then
        run brew install ollama
        run brew services start ollama
      else
        die "Ollama is not installed and Homebrew is missing" \
          "install Ollama from https://ollama.com/download, start it, and re-run this installer"
      fi
    else
      info "Ollama: installing with the official script (https://ollama.com/install.sh)"
      if [[ $DRY_RUN == 1 ]]; then
        plan "would run: curl -fsSL https://ollama.com/install.sh | sh"
      else
        curl -fsSL https://ollama.com/install.sh </dev/null | sh ||
          die "the Ollama install script failed" "install Ollama by hand (https://ollama.com/download/linux), then re-run with the same options"
      fi
    fi
  fi
  if [[ $DRY_RUN == 1 ]]; then
    plan "would start Ollama if it is not running and wait for $(ollama_url)"
    return 0
  fi
  if ! ollama_up && [[ $INIT != systemd ]]; then
    # No service manager started it: run it in the background beside the node.
    mkdir -p "$PREFIX/logs" "$PREFIX/run"
    nohup ollama serve </dev/null >>"$PREFIX/logs/ollama.log" 2>&1 &
    echo $! >"$PREFIX/run/ollama.pid"
  fi
  local i
  for ((i = 0; i < 30; i++)); do
    ollama_up && break
    sleep 1
  done
  ollama_up || die "Ollama does not answer at $(ollama_url)" \
    "start it (systemctl start ollama, or: ollama serve) and re-run" \
    "if it runs elsewhere, set OLLAMA_HOST in $PREFIX/.env"
  ok "Ollama: running at $(ollama_url)"
}

pull_model() {
  if [[ $NO_OLLAMA == 1 ]]; then return 0; fi
  if [[ $DRY_RUN == 1 ]]; then
    plan "would pull the model $MODEL (ollama pull $MODEL)"
    return 0
  fi
  info "pulling $MODEL; this can take a while on the first run"
  if "$@" ollama pull "$MODEL" </dev/null; then
    ok "model: $MODEL is ready"
  else
    warn "could not pull $MODEL; the node runs, but has no model yet"
    info "next: run 'ollama pull $MODEL' when the network is back"
  fi
}

# ---------------------------------------------------------------------------------------------
# Native mode
# ---------------------------------------------------------------------------------------------
NODE_BIN=''

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

# resolve_node: a Node.js >= 22, preferring the system's, then the checkout's node@24.
resolve_node() {
  local candidate major
  for candidate in "${ALLERAC_NODE:-}" "$(command -v node 2>/dev/null || true)" "$SOURCE_DIR/node_modules/node/bin/node"; do
    [[ -n $candidate && -x $candidate ]] || continue
    major=$(node_major "$candidate")
    if ((major >= NODE_MAJOR_MIN)); then
      NODE_BIN=$candidate
      break
    fi
  done
  if [[ -n $NODE_BIN ]]; then
    if [[ $NODE_BIN == "$SOURCE_DIR"/* ]]; then
      local version
      version=$("$NODE_BIN" -e 'process.stdout.write(process.version)')
      # The source may go away (a checkout moved, a temporary release dir): keep our own copy.
      local runtime=$PREFIX/runtime/node-$version/bin/node
      if [[ $DRY_RUN == 1 ]]; then
        plan "would copy Node.js $version from the checkout's node@$NODE_MAJOR_INSTALL to $runtime"
      elif [[ ! -x $runtime ]]; then
        mkdir -p "$(dirname "$runtime")"
        cp "$NODE_BIN" "$runtime.tmp"
        mv "$runtime.tmp" "$runtime"
      fi
      NODE_BIN=$runtime
      ok "Node.js: $version (the repository's node@$NODE_MAJOR_INSTALL, copied to $PREFIX/runtime)"
    else
      ok "Node.js: $("$NODE_BIN" -v) at $NODE_BIN"
    fi
    return 0
  fi
  info "Node.js >= $NODE_MAJOR_MIN not found; installing Node.js $NODE_MAJOR_INSTALL"
  if [[ $UNAME_S == Darwin ]]; then
    command -v brew >/dev/null 2>&1 || [[ $DRY_RUN == 1 ]] ||
      die "Homebrew is missing, so Node.js $NODE_MAJOR_INSTALL cannot be installed" \
        "install Homebrew (https://brew.sh) or Node.js $NODE_MAJOR_INSTALL (https://nodejs.org), then re-run"
    run brew install "node@$NODE_MAJOR_INSTALL"
    NODE_BIN=$( (brew --prefix "node@$NODE_MAJOR_INSTALL" 2>/dev/null || echo /opt/homebrew/opt/node@$NODE_MAJOR_INSTALL) | sed 's#$#/bin/node#')
  else
    if [[ $DRY_RUN == 1 ]]; then
      plan "would run: curl -fsSL https://deb.nodesource.com/setup_$NODE_MAJOR_INSTALL.x | sudo bash - && sudo apt-get install -y nodejs"
    else
      TMP_DIR=${TMP_DIR:-$(mktemp -d)}
      curl -fsSL "https://deb.nodesource.com/setup_$NODE_MAJOR_INSTALL.x" -o "$TMP_DIR/nodesource.sh" </dev/null ||
        die "could not download the NodeSource setup script" "install Node.js $NODE_MAJOR_INSTALL by hand (https://nodejs.org), then re-run"
      as_root bash "$TMP_DIR/nodesource.sh" </dev/null
      as_root apt-get install -y nodejs </dev/null
    fi
    NODE_BIN=/usr/bin/node
  fi
  [[ $DRY_RUN == 1 ]] || (($(node_major "$NODE_BIN") >= NODE_MAJOR_MIN)) ||
    die "Node.js $NODE_MAJOR_INSTALL did not install" "install it by hand (https://nodejs.org) and re-run"
  ok "Node.js: $NODE_BIN"
}

# ensure_built: a checkout must have been built (npm install runs the build through `prepare`).
ensure_built() {
  if [[ -f $SOURCE_DIR/packages/node/dist/cli.js && -d $SOURCE_DIR/node_modules ]]; then
    ok "build: found in $SOURCE_DIR"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || [[ $DRY_RUN == 1 ]] ||
    die "the checkout is not built and npm is missing" "install Node.js $NODE_MAJOR_INSTALL with npm, run 'npm install' in $SOURCE_DIR, and re-run"
  info "build: running npm install in $SOURCE_DIR (it builds through 'prepare')"
  if [[ $DRY_RUN == 1 ]]; then
    plan "would run: (cd $SOURCE_DIR && npm install)"
  else
    (cd "$SOURCE_DIR" && npm install </dev/null) || die "npm install failed in $SOURCE_DIR" "read the npm output above, fix it, and re-run"
  fi
}

# workspace_dirs: the workspaces listed in the root package.json.
workspace_dirs() {
  "$NODE_BIN" -e '
    const pkg = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const ws of pkg.workspaces ?? []) console.log(ws);
  ' "$SOURCE_DIR/package.json"
}

# package_files DIR: what npm would pack from a workspace ("files", or dist when unset).
package_files() {
  "$NODE_BIN" -e '
    const pkg = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const f of pkg.files ?? ["dist"]) console.log(f);
  ' "$1/package.json"
}

# production_modules: node_modules paths of the production dependency tree, outermost first and
# without paths nested in an earlier one. Copying these rather than all of node_modules leaves
# the compilers and test tools (about two thirds of it) behind, and needs no network.
production_modules() {
  (
    cd "$SOURCE_DIR" || exit 0
    PATH="$(dirname "$NODE_BIN"):$PATH" npm ls --omit=dev --parseable --all 2>/dev/null </dev/null || true
  ) |
    sed "s#^$SOURCE_DIR/##" | grep 'node_modules/' |
    awk '{ print length($0), $0 }' | sort -n | cut -d' ' -f2- |
    awk '{
      n = split($0, parts, "/"); pre = ""; skip = 0
      for (i = 1; i < n; i++) { pre = (i == 1 ? parts[1] : pre "/" parts[i]); if (pre in kept) { skip = 1; break } }
      if (!skip) { kept[$0] = 1; print }
    }'
}

# stage_app DEST: copy the built app (workspaces' packed files and production node_modules).
stage_app() {
  local dest=$1 ws entry path
  mkdir -p "$dest"
  cp -p "$SOURCE_DIR/package.json" "$dest/"
  if [[ -f $SOURCE_DIR/package-lock.json ]]; then cp -p "$SOURCE_DIR/package-lock.json" "$dest/"; fi
  while IFS= read -r ws; do
    [[ -f $SOURCE_DIR/$ws/package.json ]] || continue
    mkdir -p "$dest/$ws"
    cp -p "$SOURCE_DIR/$ws/package.json" "$dest/$ws/"
    while IFS= read -r entry; do
      if [[ -e $SOURCE_DIR/$ws/$entry ]]; then cp -RPp "$SOURCE_DIR/$ws/$entry" "$dest/$ws/"; fi
    done < <(package_files "$SOURCE_DIR/$ws")
  done < <(workspace_dirs)
  local modules
  modules=$(production_modules)
  if [[ -z $modules ]]; then
    warn "npm could not list the production dependencies; copying all of node_modules"
    cp -RPp "$SOURCE_DIR/node_modules" "$dest/"
  else
    while IFS= read -r path; do
      mkdir -p "$dest/$(dirname "$path")"
      cp -RPp "$SOURCE_DIR/$path" "$dest/$path"
    done <<<"$modules"
  fi
  [[ -f $dest/packages/node/dist/cli.js ]] || die "the staged app has no packages/node/dist/cli.js" "run 'npm install' in $SOURCE_DIR and re-run"
}

write_file() {
  local path=$1 mode=$2 content=$3
  printf '%s' "$content" >"$path.tmp.$$"
  chmod "$mode" "$path.tmp.$$"
  mv "$path.tmp.$$" "$path"
}

# sh_quote VALUE: VALUE as one single-quoted word for sh.
sh_quote() {
  local q="'\\''"
  printf "'%s'" "${1//\'/$q}"
}

# write_wrapper: <prefix>/bin/allerac runs the current version with this prefix's .env.
write_wrapper() {
  {
    printf '#!/bin/sh\n# Generated by the Allerac installer: runs the current version with the settings in .env.\n'
    printf 'PREFIX=%s\nNODE_BIN=%s\n' "$(sh_quote "$PREFIX")" "$(sh_quote "$NODE_BIN")"
    cat <<'EOF'
# Variables already set (and non-empty) in the environment win over .env; empty ones stay unset.
if [ -f "$PREFIX/.env" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      [A-Z]*=?*)
        key=${line%%=*}
        case $key in *[!A-Z0-9_]*) continue ;; esac
        eval "current=\${$key:-}"
        [ -n "$current" ] || export "$key=${line#*=}"
        ;;
    esac
  done <"$PREFIX/.env"
fi
exec "$NODE_BIN" "$PREFIX/current/packages/node/bin/allerac.js" "$@"
EOF
  } >"$PREFIX/bin/allerac.tmp"
  chmod 755 "$PREFIX/bin/allerac.tmp"
  mv "$PREFIX/bin/allerac.tmp" "$PREFIX/bin/allerac"
}

# write_service_script: <prefix>/bin/allerac-service start|stop|restart|status in every mode;
# without a service manager it is the service manager itself (pidfile + log file).
write_service_script() {
  {
    printf '#!/bin/sh\n# Generated by the Allerac installer: start|stop|restart|status of the node.\n'
    printf 'PREFIX=%s\nINIT=%s\nUNIT=%s\nSYSTEMCTL=%s\nPLIST=%s\nDOMAIN=%s\nLABEL=%s\n' \
      "$(sh_quote "$PREFIX")" "$INIT" "$SYSTEMD_UNIT_NAME" "$(sh_quote "$SYSTEMCTL")" \
      "$(sh_quote "$LAUNCHD_PLIST")" "$(sh_quote "$LAUNCHD_DOMAIN")" "$SERVICE_LABEL"
    cat <<'EOF'
PIDFILE="$PREFIX/run/allerac.pid"
LOG="$PREFIX/logs/allerac.log"

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

bg_start() {
  if running; then
    echo "allerac is already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  mkdir -p "$PREFIX/run" "$PREFIX/logs"
  # setsid detaches the node from the caller's session, so closing the terminal keeps it running.
  if command -v setsid >/dev/null 2>&1; then
    setsid "$PREFIX/bin/allerac" start </dev/null >>"$LOG" 2>&1 &
  else
    nohup "$PREFIX/bin/allerac" start </dev/null >>"$LOG" 2>&1 &
  fi
  echo $! >"$PIDFILE"
  echo "allerac started (pid $!, log $LOG)"
}

bg_stop() {
  if ! running; then
    rm -f "$PIDFILE"
    echo 'allerac is not running'
    return 0
  fi
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null
  # Up to 30 s for a clean shutdown, then SIGKILL.
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 60 ]; do
    sleep 0.5
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    sleep 0.5
  fi
  rm -f "$PIDFILE"
  echo 'allerac stopped'
}

case "${1:-}" in
  start)
    case $INIT in
      systemd) $SYSTEMCTL start "$UNIT" ;;
      launchd) launchctl bootstrap "$DOMAIN" "$PLIST" 2>/dev/null || launchctl kickstart "$DOMAIN/$LABEL" ;;
      *) bg_start ;;
    esac
    ;;
  stop)
    case $INIT in
      systemd) $SYSTEMCTL stop "$UNIT" ;;
      launchd) launchctl bootout "$DOMAIN/$LABEL" 2>/dev/null || true ;;
      *) bg_stop ;;
    esac
    ;;
  restart)
    "$0" stop && "$0" start
    ;;
  status)
    case $INIT in
      systemd) $SYSTEMCTL status "$UNIT" --no-pager ;;
      launchd)
        if launchctl print "$DOMAIN/$LABEL" >/dev/null 2>&1; then echo 'allerac is running'; else
          echo 'allerac is not running'
          exit 3
        fi
        ;;
      *)
        if running; then echo "allerac is running (pid $(cat "$PIDFILE"))"; else
          echo 'allerac is not running'
          exit 3
        fi
        ;;
    esac
    ;;
  *)
    echo "usage: $0 start|stop|restart|status" >&2
    exit 2
    ;;
esac
EOF
  } >"$PREFIX/bin/allerac-service.tmp"
  chmod 755 "$PREFIX/bin/allerac-service.tmp"
  mv "$PREFIX/bin/allerac-service.tmp" "$PREFIX/bin/allerac-service"
}

SYSTEMD_UNIT_NAME=allerac.service
SYSTEMD_UNIT_PATH=''
SYSTEMCTL='systemctl'
LAUNCHD_PLIST=''
LAUNCHD_DOMAIN=''

detect_init() {
  INIT=${ALLERAC_INIT:-}
  if [[ -z $INIT ]]; then
    if [[ $UNAME_S == Darwin ]]; then
      INIT=launchd
    elif [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      INIT=systemd
    else
      INIT=background
    fi
  fi
  case $INIT in
    systemd)
      if [[ $EUID_NOW == 0 ]]; then
        SYSTEMD_UNIT_PATH=/etc/systemd/system/$SYSTEMD_UNIT_NAME
      else
        SYSTEMD_UNIT_PATH=$HOME/.config/systemd/user/$SYSTEMD_UNIT_NAME
        SYSTEMCTL='systemctl --user'
      fi
      ;;
    launchd)
      if [[ $EUID_NOW == 0 ]]; then
        LAUNCHD_PLIST=/Library/LaunchDaemons/$SERVICE_LABEL.plist
        LAUNCHD_DOMAIN=system
      else
        LAUNCHD_PLIST=$HOME/Library/LaunchAgents/$SERVICE_LABEL.plist
        LAUNCHD_DOMAIN=gui/$(id -u)
      fi
      ;;
    background) ;;
    *) die "ALLERAC_INIT=$INIT is not one of systemd, launchd, background" "unset ALLERAC_INIT" ;;
  esac
}

describe_service() {
  case $INIT in
    systemd) printf 'systemd unit %s' "$SYSTEMD_UNIT_PATH" ;;
    launchd) printf 'launchd %s %s' "$([[ $EUID_NOW == 0 ]] && echo daemon || echo agent)" "$LAUNCHD_PLIST" ;;
    background) printf 'no systemd here: %s/bin/allerac-service (background process, pidfile %s/run/allerac.pid, log %s/logs/allerac.log)' "$PREFIX" "$PREFIX" "$PREFIX" ;;
  esac
}

install_service() {
  case $INIT in
    systemd)
      local user_line=''
      if [[ $EUID_NOW == 0 ]]; then user_line=$'User=allerac\nGroup=allerac'; fi
      mkdir -p "$(dirname "$SYSTEMD_UNIT_PATH")"
      write_file "$SYSTEMD_UNIT_PATH" 644 "[Unit]
Description=Allerac mesh node
Documentation=file://$PREFIX/current/docs/local-setup.md
After=network-online.target ollama.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=$PREFIX/bin/allerac start
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
$user_line
NoNewPrivileges=true
# Open files: connections, the embedded database and the mesh; the node caps HTTP connections
# at half of this, so a flood of slow clients cannot starve the rest.
LimitNOFILE=65536
UMask=0077

[Install]
WantedBy=$([[ $EUID_NOW == 0 ]] && echo multi-user.target || echo default.target)
"
      $SYSTEMCTL daemon-reload
      $SYSTEMCTL enable "$SYSTEMD_UNIT_NAME" >/dev/null
      if [[ $EUID_NOW != 0 ]]; then
        # A user unit stops at logout unless lingering is on.
        loginctl enable-linger "$(id -un)" 2>/dev/null || warn "could not enable lingering; the node stops when you log out (fix: sudo loginctl enable-linger $(id -un))"
      fi
      ;;
    launchd)
      mkdir -p "$(dirname "$LAUNCHD_PLIST")"
      write_file "$LAUNCHD_PLIST" 644 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
  <key>Label</key><string>$SERVICE_LABEL</string>
  <key>ProgramArguments</key>
  <array><string>$PREFIX/bin/allerac</string><string>start</string></array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
  <key>StandardOutPath</key><string>$PREFIX/logs/allerac.log</string>
  <key>StandardErrorPath</key><string>$PREFIX/logs/allerac.log</string>
</dict>
</plist>
"
      ;;
    background) ;;
  esac
}

# node_alive: for wait_health, false once a background node has exited.
node_alive() {
  if [[ $INIT != background ]]; then return 0; fi
  [[ -f $PREFIX/run/allerac.pid ]] && kill -0 "$(cat "$PREFIX/run/allerac.pid")" 2>/dev/null
}

install_native() {
  resolve_source
  ensure_built
  resolve_node
  detect_init
  info "service: $(describe_service)"
  ensure_ollama
  local version_dir=$PREFIX/versions/$APP_VERSION
  if [[ $DRY_RUN == 1 ]]; then
    plan "would copy the app (workspaces' dist and production node_modules) from $SOURCE_DIR to $version_dir"
    plan "would point $PREFIX/current at versions/$APP_VERSION"
    plan "would write $PREFIX/bin/allerac and $PREFIX/bin/allerac-service"
    write_env
    plan "would install the $(describe_service)"
    plan "would start the node on $HTTP_HOST:$HTTP_PORT (mesh port $P2P_PORT)"
    wait_health
    pull_model
    plan "would print the URL http://$(lan_address):$HTTP_PORT/"
    return 0
  fi
  mkdir -p "$PREFIX/versions" "$PREFIX/bin" "$PREFIX/data" "$PREFIX/logs" "$PREFIX/run"
  if [[ $EUID_NOW == 0 && $INIT == systemd ]] && ! id allerac >/dev/null 2>&1; then
    useradd --system --home-dir "$PREFIX" --shell /usr/sbin/nologin allerac
    echo 'SERVICE_USER_CREATED=1' >"$PREFIX/.user-created"
  fi
  local staging=$PREFIX/versions/.staging-$$
  rm -rf "$staging"
  info "copying the app to $version_dir"
  stage_app "$staging"
  # Stop the running node only now, so a failed copy leaves the old version serving.
  if [[ -x $PREFIX/bin/allerac-service ]]; then
    "$PREFIX/bin/allerac-service" stop >/dev/null 2>&1 || true
  fi
  if [[ -d $version_dir ]]; then
    rm -rf "$version_dir.old"
    mv "$version_dir" "$version_dir.old"
  fi
  mv "$staging" "$version_dir"
  rm -rf "$version_dir.old"
  ln -sfn "versions/$APP_VERSION" "$PREFIX/current.tmp"
  mv -f "$PREFIX/current.tmp" "$PREFIX/current" 2>/dev/null || { rm -f "$PREFIX/current" && ln -sfn "versions/$APP_VERSION" "$PREFIX/current" && rm -f "$PREFIX/current.tmp"; }
  ok "app: $version_dir (current -> versions/$APP_VERSION)"

  local env_pairs
  env_pairs=("ALLERAC_NAME=$NODE_NAME" "!ALLERAC_DATA_DIR=$PREFIX/data" "ALLERAC_MODEL=$MODEL")
  env_pairs+=("$(flag_pair "$HTTP_PORT_SET" ALLERAC_HTTP_PORT "$HTTP_PORT")")
  env_pairs+=("$(flag_pair "$HTTP_HOST_SET" ALLERAC_HTTP_HOST "$HTTP_HOST")")
  env_pairs+=("$(flag_pair "$P2P_PORT_SET" ALLERAC_P2P_PORT "$P2P_PORT")")
  if [[ -n $JOIN ]]; then env_pairs+=("!ALLERAC_JOIN=$JOIN"); fi
  write_env "${env_pairs[@]}"
  # The .env may carry settings from an earlier run: use them from here on.
  HTTP_PORT=$(env_value ALLERAC_HTTP_PORT "$PREFIX/.env")
  HTTP_HOST=$(env_value ALLERAC_HTTP_HOST "$PREFIX/.env")
  P2P_PORT=$(env_value ALLERAC_P2P_PORT "$PREFIX/.env")

  write_wrapper
  write_service_script
  write_file "$PREFIX/install.conf" 644 "# Written by install.sh; read by uninstall.sh and updates.
MODE=native
INIT=$INIT
VERSION=$APP_VERSION
NODE_BIN=$NODE_BIN
SOURCE=$SOURCE_DIR
SYSTEMD_UNIT_PATH=$SYSTEMD_UNIT_PATH
LAUNCHD_PLIST=$LAUNCHD_PLIST
INSTALLED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"
  if [[ $EUID_NOW == 0 && $INIT == systemd ]]; then
    chown -R allerac:allerac "$PREFIX/data" "$PREFIX/logs" "$PREFIX/run" "$PREFIX/.env"
  fi
  install_service
  ok "service: $(describe_service)"

  if port_busy "$HTTP_PORT"; then
    die "port $HTTP_PORT is already in use by another program" \
      "find it with: ss -ltnp 'sport = :$HTTP_PORT' (Linux) or lsof -iTCP:$HTTP_PORT -sTCP:LISTEN (macOS)" \
      "or re-run with another port: --http-port $((HTTP_PORT + 1))"
  fi
  "$PREFIX/bin/allerac-service" start
  if ! wait_health node_alive; then
    printf '[FAIL] the node did not become healthy at %s\n' "$(health_url)" >&2
    if [[ -f $PREFIX/logs/allerac.log ]]; then
      printf '       last lines of %s:\n' "$PREFIX/logs/allerac.log" >&2
      tail -n 20 "$PREFIX/logs/allerac.log" | sed 's/^/       | /' >&2
    fi
    die "the node is installed but not running" \
      "read the log: $PREFIX/logs/allerac.log (or: journalctl -u allerac / journalctl --user -u allerac)" \
      "check the port and settings in $PREFIX/.env, then: $PREFIX/bin/allerac-service restart"
  fi
  pull_model
}

# ---------------------------------------------------------------------------------------------
# Docker mode
# ---------------------------------------------------------------------------------------------
install_docker() {
  resolve_source
  local compose=$SOURCE_DIR/deploy/docker-compose.local.yml
  [[ -f $compose || $DRY_RUN == 1 ]] || die "cannot find $compose" "update the checkout or pass --source"
  if ! command -v docker >/dev/null 2>&1; then
    if [[ $UNAME_S == Darwin ]]; then
      die "Docker is not installed" "install Docker Desktop (https://docs.docker.com/desktop/setup/install/mac-install/) and re-run" \
        "or use the native install, which is the better fit on a Mac (Ollama gets the GPU): bash install.sh --native"
    fi
    if ask "Docker is missing; install it with the official script (https://get.docker.com)?"; then
      if [[ $DRY_RUN == 1 ]]; then
        plan "would run: curl -fsSL https://get.docker.com | sudo sh"
      else
        TMP_DIR=${TMP_DIR:-$(mktemp -d)}
        curl -fsSL https://get.docker.com -o "$TMP_DIR/get-docker.sh" </dev/null || die "could not download the Docker install script" "install Docker by hand (https://docs.docker.com/engine/install/) and re-run"
        as_root sh "$TMP_DIR/get-docker.sh" </dev/null
      fi
    else
      die "Docker is required for --docker" "install Docker (https://docs.docker.com/engine/install/) and re-run, or use --native"
    fi
  elif [[ $DRY_RUN != 1 ]] && ! docker compose version >/dev/null 2>&1; then
    die "the Docker compose plugin is missing" "install it (Debian/Ubuntu: sudo apt-get install docker-compose-plugin) and re-run"
  else
    ok "Docker: $(docker --version 2>/dev/null || echo present)"
  fi
  local profiles=() ollama_host=http://127.0.0.1:11434
  if [[ $NO_OLLAMA == 1 ]]; then
    info "Ollama: skipped (--no-ollama)"
  elif ollama_up || command -v ollama >/dev/null 2>&1; then
    ok "Ollama: using the one on this machine"
  else
    profiles=(--profile ollama)
    info "Ollama: none on this machine; running it in a container (compose profile 'ollama')"
  fi
  local env_pairs=("!ALLERAC_DATA_DIR=/data" "ALLERAC_NAME=$NODE_NAME" "ALLERAC_MODEL=$MODEL" "OLLAMA_HOST=$ollama_host")
  env_pairs+=("$(flag_pair "$HTTP_PORT_SET" ALLERAC_HTTP_PORT "$HTTP_PORT")")
  env_pairs+=("$(flag_pair "$HTTP_HOST_SET" ALLERAC_HTTP_HOST "$HTTP_HOST")")
  env_pairs+=("$(flag_pair "$P2P_PORT_SET" ALLERAC_P2P_PORT "$P2P_PORT")")
  if [[ -n $JOIN ]]; then env_pairs+=("!ALLERAC_JOIN=$JOIN"); fi
  if ((${#profiles[@]} > 0)); then env_pairs+=("!COMPOSE_PROFILES=ollama"); fi
  [[ $DRY_RUN == 1 ]] || mkdir -p "$PREFIX"
  write_env "${env_pairs[@]}"
  # ${a[@]+...} keeps bash 3.2 (macOS) quiet about an empty array under set -u.
  local dc=(docker compose --project-name allerac --env-file "$PREFIX/.env" -f "$compose" ${profiles[@]+"${profiles[@]}"})
  if [[ $DRY_RUN != 1 ]]; then
    HTTP_PORT=$(env_value ALLERAC_HTTP_PORT "$PREFIX/.env")
    P2P_PORT=$(env_value ALLERAC_P2P_PORT "$PREFIX/.env")
    write_file "$PREFIX/install.conf" 644 "# Written by install.sh; read by uninstall.sh and updates.
MODE=docker
VERSION=$APP_VERSION
SOURCE=$SOURCE_DIR
COMPOSE_FILE=$compose
INSTALLED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"
  fi
  run "${dc[@]}" up -d --build --remove-orphans
  if ! wait_health; then
    die "the node container did not become healthy at $(health_url)" \
      "read its log: docker compose -p allerac logs node" \
      "check the settings in $PREFIX/.env, then re-run this installer"
  fi
  if ((${#profiles[@]} > 0)); then
    pull_model "${dc[@]}" exec -T ollama
  else
    pull_model
  fi
}

# ---------------------------------------------------------------------------------------------
main() {
  # The script may come through a pipe (curl | bash), so BASH_SOURCE can be empty.
  local self=${BASH_SOURCE[0]:-}
  if [[ -n $self && -f $self ]]; then SCRIPT_DIR=$(cd "$(dirname "$self")" && pwd); fi
  parse_args "$@"
  trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR
  trap cleanup EXIT
  [[ $DRY_RUN == 1 ]] && info "dry run: printing the plan; nothing on this machine changes"
  info "Allerac installer: mode $MODE, prefix $PREFIX"
  detect_os
  check_hardware
  recommend_model
  if [[ $MODE == docker ]]; then
    [[ $UNAME_S == Darwin ]] && warn "Docker on macOS gives Ollama no GPU; the native install is the better fit on a Mac"
    install_docker
  else
    install_native
  fi
  if [[ $DRY_RUN == 1 ]]; then
    ok "dry run complete: nothing was changed"
    return 0
  fi
  ok "Allerac is running: http://$(lan_address):$HTTP_PORT/ (on this machine: http://127.0.0.1:$HTTP_PORT/)"
  if [[ $MODE == native ]]; then
    info "admin token: $PREFIX/bin/allerac token"
    info "service control: $PREFIX/bin/allerac-service start|stop|restart|status"
    [[ $INIT == background ]] && info "no systemd here: the node does not start at boot; add '@reboot $PREFIX/bin/allerac-service start' to your crontab"
  else
    info "admin token: docker compose -p allerac exec node allerac token --data-dir /data"
  fi
  info "open ports for the home network: ${HTTP_PORT}/tcp (web), ${P2P_PORT}/tcp (mesh), 5353/udp (mDNS)"
}

main "$@"
