#!/usr/bin/env bash
# Installs the OS packages OneMap needs on Debian 12 / Ubuntu 22.04+, only those missing (idempotent).
# PostgreSQL + PostGIS, GDAL/GEOS/PROJ runtime (via gdal-bin), CJK fonts (map labels, screenshots),
# Debian's chromium for the browser tests, gettext for translations, python3-venv.
# Set ONEMAP_SKIP_APT=1 to skip (you then provide the libraries yourself).
set -euo pipefail

[ "${ONEMAP_SKIP_APT:-0}" = "1" ] && exit 0
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian/Ubuntu system; install PostgreSQL+PostGIS, GDAL, GEOS, PROJ, chromium yourself and set ONEMAP_SKIP_APT=1" >&2; exit 0; }

missing() {
  local out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

apt_install() {
  local pkgs="$*"
  [ -z "$pkgs" ] && return 0
  local SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "system-deps: missing packages: $pkgs" >&2
      echo "system-deps: run as root or with passwordless sudo, or install them and re-run." >&2
      exit 1
    fi
  fi
  echo "system-deps: installing $pkgs"
  # Update the package lists at most once per run, and only when something is missing.
  if [ -z "${_ONEMAP_APT_UPDATED:-}" ]; then $SUDO apt-get update -q >/dev/null; _ONEMAP_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $pkgs >/dev/null
}

# Chromium: Debian calls it "chromium"; on Ubuntu it is "chromium-browser" (a snap shim).
CHROMIUM_PKG=chromium
if grep -qi ubuntu /etc/os-release 2>/dev/null; then CHROMIUM_PKG=chromium-browser; fi

apt_install "$(missing postgresql postgresql-contrib gdal-bin libgdal-dev binutils fonts-noto-cjk gettext python3-venv "$CHROMIUM_PKG")"
# Receipts as PDF: WeasyPrint's Pango; poppler-utils for the PDF tests (pdftotext, pdftoppm, pdffonts).
apt_install "$(missing libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)"

# PostGIS for the installed PostgreSQL major version (15 on Debian 12, 14/16 on Ubuntu).
PGV=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
apt_install "$(missing "postgresql-$PGV-postgis-3" "postgresql-$PGV-postgis-3-scripts")"
