# latexmk's settings for this LaTeX source (`make source` ships this file as latexmkrc).
# LuaLaTeX: the title's name may be in any script (fontspec and babel's fonts need it). main.tex
# alone: the other .tex files are its sections, \input by it.
$pdf_mode = 4;
@default_files = ('main.tex');
$lualatex = 'lualatex -file-line-error %O %S';
