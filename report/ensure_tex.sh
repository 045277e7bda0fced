#!/usr/bin/env bash
# Make sure latexmk, pdflatex and the LaTeX packages the templates use are present.
# Missing and root with apt: install the Debian packages. Otherwise: stop with the exact command.
set -euo pipefail
DEBS="latexmk texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science"
STYS="siunitx.sty booktabs.sty amsmath.sty geometry.sty hyperref.sty microtype.sty lmodern.sty xcolor.sty caption.sty"

tex_ok() {
  command -v latexmk >/dev/null && command -v pdflatex >/dev/null || return 1
  for sty in $STYS; do kpsewhich "$sty" >/dev/null || return 1; done
}

tex_ok && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing TeX from Debian: $DEBS"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $DEBS >/dev/null
  tex_ok && exit 0
  echo "error: TeX packages installed but a LaTeX package is still missing (one of: $STYS)" >&2
  exit 1
fi
echo "error: TeX is missing (latexmk, pdflatex or one of: $STYS). Install it with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y $DEBS" >&2
exit 1
