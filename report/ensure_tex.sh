#!/usr/bin/env bash
# Make sure latexmk, LuaLaTeX, the LaTeX packages the templates use and the fonts a [student] name
# may need are present. Missing and root with apt: install the Debian packages. Otherwise: stop
# with the exact command.
# Fonts (report/render.py NAME_FONTS): Latin Modern for the body and Latin names, CMU Serif
# (fonts-cmu) for Greek and Cyrillic, Noto Serif Hebrew and Noto Naskh Arabic (fonts-noto-core),
# Noto Serif CJK SC (fonts-noto-cjk). poppler-utils: pdftotext, which the tests read names with.
set -euo pipefail
DEBS="latexmk fontconfig texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science texlive-luatex fonts-cmu fonts-noto-core fonts-noto-cjk poppler-utils"
STYS="siunitx.sty booktabs.sty amsmath.sty geometry.sty hyperref.sty microtype.sty lmodern.sty xcolor.sty caption.sty fontspec.sty luaotfload.sty babel.sty"
FONTS=("CMU Serif" "Noto Serif Hebrew" "Noto Naskh Arabic" "Noto Serif CJK SC")

tex_ok() {
  command -v latexmk >/dev/null && command -v lualatex >/dev/null && command -v pdftotext >/dev/null || return 1
  for sty in $STYS; do kpsewhich "$sty" >/dev/null || return 1; done
  for font in "${FONTS[@]}"; do fc-list -q ":family=$font" || return 1; done
}

# LuaLaTeX finds fonts through its own name database: build it now rather than in the first
# build (the first build with a new script still caches that font once: ~20 s for CJK).
font_database() {
  luaotfload-tool --update >/dev/null
}

tex_ok && font_database && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing TeX and fonts from Debian: $DEBS"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $DEBS >/dev/null
  tex_ok && font_database && exit 0
  echo "error: TeX packages installed but something is still missing (latexmk, lualatex, pdftotext, one of: $STYS; or a font: ${FONTS[*]})" >&2
  exit 1
fi
echo "error: TeX is missing (latexmk, lualatex, pdftotext, one of: $STYS; or a font: ${FONTS[*]}). Install it with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y $DEBS" >&2
exit 1
