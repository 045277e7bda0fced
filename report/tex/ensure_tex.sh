#!/usr/bin/env bash
# TeX for the report, installed beside the pipeline rather than before it: only typesetting needs it.
#
#   bash report/tex/ensure_tex.sh start          # setup: TeX present? else start installing it (root)
#                                            #   in the background, or stop with the apt-get command
#   bash report/tex/ensure_tex.sh wait           # before typesetting: wait for that install, check TeX
#   bash report/tex/ensure_tex.sh fonts PKG...   # a [student] name's fonts (report/tex/fonts.py): install
#                                            #   them (root) or stop with the apt-get command
#
# The base install is what a Latin name needs: latexmk, LuaLaTeX, the LaTeX packages the templates
# use (siunitx needs translations.sty, from texlive-latex-extra), Latin Modern (fonts-lmodern, a
# dependency of texlive-latex-base) and poppler-utils (pdftotext, which the tests and `make
# submission` read the PDF with). Without apt's recommended packages (viewers, X libraries, ...):
# LaTeX's recorder shows that a build reads files of the packages above and their dependencies
# only. A script's fonts come on demand (report/render/jinja.py FONT_PACKAGES): the CJK font alone is a
# fifth of the rest of the download.
# apt's own output goes to the log file (printed, and its end shown when apt fails). The background
# install runs in a session of its own, so Ctrl-C in make never stops dpkg halfway; the next run
# waits for it. State lives in .venv/tex/ (TEX_STATE overrides it; the tests use their own).
set -euo pipefail
DEBS="latexmk fontconfig texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science texlive-luatex poppler-utils"
STYS="siunitx.sty translations.sty booktabs.sty amsmath.sty geometry.sty hyperref.sty microtype.sty lmodern.sty xcolor.sty caption.sty fontspec.sty luaotfload.sty babel.sty"
STATE="${TEX_STATE:-.venv/tex}"
LOG="$STATE/install.log"    # apt's output
LOCK="$STATE/lock"          # held by the background install while it runs
STATUS="$STATE/status"      # its exit status, written when it ends
# apt waits for another apt or dpkg to finish rather than failing on its lock
APT=(apt-get -y -q -o DPkg::Lock::Timeout=600)

tex_ok() {
  command -v latexmk >/dev/null && command -v lualatex >/dev/null && command -v pdftotext >/dev/null || return 1
  for sty in $STYS; do kpsewhich "$sty" >/dev/null || return 1; done
  fc-list -q ":family=Latin Modern Roman"
}

missing_what() {
  echo "latexmk, lualatex, pdftotext or one of: $STYS"
}

can_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null
}

# LuaLaTeX finds fonts through its own name database: build it now rather than in the first
# build (the first build with a new script still caches that font once: ~20 s for CJK).
font_database() {
  luaotfload-tool --update >/dev/null
}

apt_install() {  # apt-get's output to the log; its status returned. The package lists are
  # refreshed only when the install fails without (a fresh image has none; old ones give 404s).
  export DEBIAN_FRONTEND=noninteractive
  { "${APT[@]}" install --no-install-recommends "$@" ||
    { "${APT[@]}" update && "${APT[@]}" install --no-install-recommends "$@"; }; } >>"$LOG" 2>&1
}

show_log_end() {
  echo "  the end of $LOG:" >&2
  tail -n 15 "$LOG" | sed 's/^/  | /' >&2
}

# The background install holds a lock on $LOCK while it runs (flock: released when it ends, however
# it ends, unlike a pid file that outlives its process).
install_running() {
  [ -e "$LOCK" ] && ! flock -n "$LOCK" true
}

start() {
  tex_ok && return 0
  if ! can_install; then
    echo "error: TeX is missing ($(missing_what)). Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $DEBS" >&2
    exit 1
  fi
  mkdir -p "$STATE"
  exec 9>"$LOCK"
  if ! flock -n 9; then
    echo "setup: TeX is still installing in the background (log: $LOG)"
    return 0
  fi
  rm -f "$STATUS" "$LOG"
  # The child inherits descriptor 9 and with it the lock, taken here so that a `wait` right after
  # this finds it held. setsid: a session of its own, out of reach of the terminal's Ctrl-C.
  setsid bash "$0" background </dev/null >/dev/null 2>&1 &
  exec 9>&-
  echo "setup: installing TeX from Debian in the background (log: $LOG); typesetting waits for it"
}

background() {
  local apt_status=0
  echo "ensure_tex: installing $DEBS (started $(date +%T))" >>"$LOG"
  apt_install $DEBS || apt_status=$?
  echo "ensure_tex: apt-get exit $apt_status after $SECONDS s" >>"$LOG"
  echo "$apt_status" >"$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS"
}

wait_for_install() {
  if ! install_running && [ ! -e "$STATUS" ] && ! tex_ok; then
    start  # no install was started (a setup from before this script, or TeX removed since)
  fi
  if install_running; then
    echo "setup: waiting for the TeX install to finish (log: $LOG)"
    flock "$LOCK" true
    echo "setup: TeX installed after a wait of $SECONDS s"
  fi
  if [ -e "$STATUS" ] && [ "$(cat "$STATUS")" != 0 ]; then
    echo "error: installing TeX failed (apt-get exit $(cat "$STATUS")); fix what the log says, then run the command again" >&2
    show_log_end
    rm -f "$STATUS"  # the next run tries again
    exit 1
  fi
  tex_ok || { echo "error: TeX packages installed but something is still missing ($(missing_what))" >&2; exit 1; }
  font_database
}

fonts() {  # font packages a [student] name needs: exit 3 when not root (report/tex/fonts.py says what to run)
  can_install || exit 3
  mkdir -p "$STATE"
  echo "setup: installing $* for the [student] name (log: $LOG)"
  if ! apt_install "$@"; then
    show_log_end
    exit 1
  fi
  echo "setup: installed $* in $SECONDS s"
}

case "${1:-}" in
  start) start ;;
  wait) wait_for_install ;;
  background) background ;;
  fonts) shift; fonts "$@" ;;
  *) echo "usage: bash report/tex/ensure_tex.sh start|wait|fonts PACKAGE..." >&2; exit 2 ;;
esac
