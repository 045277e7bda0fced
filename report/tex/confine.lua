-- Confine a LuaLaTeX run to its build folder. report/tex/latexmk.py starts LuaLaTeX with
-- `--lua=<this file>`, read from report/tex/ (outside the build folder, where TeX may not write):
-- it runs before the format is loaded, so before LaTeX, luaotfload or any template line, and the
-- libraries loaded later capture the checked functions below, never the originals.
--
-- TeX's own \input and \openout are confined by kpathsea (openin_any = openout_any = p, set by
-- latexmk.py), \write18 by shell_escape = f, sockets by --nosocket. LuaTeX's --safer would do part
-- of what follows, but luaotfload refuses to run under it ("luaotfload can't run with option
-- --safer"). Lua reaches files through io, os, lfs, pdfe and fontloader, which kpathsea does not
-- see, and TeX reads images (\saveimageresource) and PDF object files (\pdfextension obj file)
-- without asking kpathsea: all of these are checked here.
--   read:  the build folder (relative paths without ..), TeX's trees and caches, the fonts;
--   write: the build folder and luaotfload's font cache;
--   never: running programs, temporary files elsewhere, loading C libraries or Lua bytecode,
--          changing folder, MetaPost (its own file access), reaching the originals through the
--          debug library.
-- A refused file raises an error naming the path ("TeX may not read ..."), which latexmk.py
-- reports at the template line; a refused look-up (a file's size, whether it exists) answers
-- as if the file were not there.

local kpse, lfs, io, os, debug, package = kpse, lfs, io, os, debug, package
local open, lines, input, output = io.open, io.lines, io.input, io.output
local original_loadfile, original_dofile, original_load = loadfile, dofile, load
local remove, rename = os.remove, os.rename
local lfs_dir, lfs_mkdir, lfs_rmdir, lfs_touch = lfs.dir, lfs.mkdir, lfs.rmdir, lfs.touch
local lfs_attributes, lfs_symlinkattributes = lfs.attributes, lfs.symlinkattributes
local lfs_isdir, lfs_isfile, lfs_readlink = lfs.isdir, lfs.isfile, lfs.readlink
local kpse_readable = kpse.readable_file
local callback, error, type, tostring = callback, error, type, tostring

local function folder(path)
  if path == nil or path == "" or path == "/" then return nil end
  return (path:gsub("/+$", "")) .. "/"
end

local function kpse_folders(names)
  local found = {}
  for _, name in ipairs(names) do
    local value = kpse.var_value(name)
    for part in (value or ""):gmatch("[^:;,{}!]+") do
      local f = folder(part)
      if f and f:sub(1, 1) == "/" then found[#found + 1] = f end
    end
  end
  return found
end

-- kpathsea is initialised after this file runs: the folders are looked up at the first check
local readable, writable
local function roots()
  if readable then return end
  -- luaotfload writes into <cache>/luatex-cache/, after a probe file that tells it may
  writable = {}
  for _, f in ipairs(kpse_folders({"TEXMFVAR", "TEXMFCACHE", "TEXMFSYSVAR"})) do
    for _, name in ipairs({"luatex-cache/", "luatex-cache", "m_t_x_t_e_s_t.tmp"}) do
      writable[#writable + 1] = f .. name
    end
  end
  readable = kpse_folders({"TEXMFROOT", "TEXMFDIST", "TEXMFMAIN", "TEXMFLOCAL", "TEXMFHOME",
                           "TEXMFSYSCONFIG", "TEXMFCONFIG", "TEXMFVAR", "TEXMFCACHE",
                           "TEXMFSYSVAR"})
  for _, f in ipairs({"/usr/share/texlive/", "/usr/share/texmf/", "/usr/share/fonts/",
                      "/usr/local/share/fonts/", "/usr/share/fontconfig/", "/etc/fonts/",
                      "/etc/texmf/", "/var/lib/texmf/", "/var/cache/fontconfig/"}) do
    readable[#readable + 1] = f
  end
  local home = folder(os.getenv("HOME"))
  if home then
    for _, f in ipairs({".fonts/", ".local/share/fonts/", ".cache/fontconfig/"}) do
      readable[#readable + 1] = home .. f
    end
  end
end

local function under(path, list)  -- in (or the very) folder of the list ("/.../"), or its file
  local as_folder = path:gsub("/*$", "/")
  for _, root in ipairs(list) do
    if root:sub(-1) == "/" and as_folder:sub(1, #root) == root or path == root then return true end
  end
  return false
end

local function inside_build(path)
  -- relative, without a parent step: in the build folder (the current one; lfs.chdir is gone)
  return path:sub(1, 1) ~= "/" and path:sub(1, 1) ~= "~"
end

local function allowed(path, writing)
  if type(path) ~= "string" then return true end  -- a file handle, or nothing: no path to check
  if ("/" .. path .. "/"):find("/%.%./") then return false end
  if inside_build(path) then return true end
  roots()
  return under(path, writing and writable or readable)
end

local function refuse(path, writing)
  local message = ("TeX may not %s %s: it reads only the build folder, the figures and TeX's "
                   .. "own files, and writes only the build folder")
                  :format(writing and "write" or "read", tostring(path))
  error(message, 0)
end

local function checked(path, writing)
  if not allowed(path, writing) then refuse(path, writing) end
  return path
end

-- a look-up of a path it may not read answers as for a file that is not there
local function looked_up(original)
  return function(path, ...)
    if not allowed(path, false) then return nil, "no such file" end
    return original(path, ...)
  end
end

io.open = function(path, mode)
  local m = mode or "r"
  return open(checked(path, m:find("[wa+]") ~= nil), mode)
end
io.lines = function(path, ...)
  if path ~= nil then checked(path, false) end
  return lines(path, ...)
end
io.input = function(f) if type(f) == "string" then checked(f, false) end return input(f) end
io.output = function(f) if type(f) == "string" then checked(f, true) end return output(f) end
-- Programs: the libraries loaded before the document ask (luaotfload runs `tput cols`) and are
-- told no, as under shell_escape = f; from the document's first line on (latexmk.py's pretex calls
-- hw1_document_begins), asking is an error
local document_started = false
local function no_program(what)
  return function(command)
    if document_started then
      error(("TeX may not run programs (%s %s)"):format(what, tostring(command)), 0)
    end
    return nil, "TeX may not run programs"
  end
end
_G.hw1_document_begins = function()
  document_started = true
  _G.hw1_document_begins = nil
  -- LuaTeX's own start-up code sets these after this file: C libraries, whatever it allows
  package.loadlib, _G.ffi, package.loaded.ffi = nil, nil, nil
  -- and its searcher for Lua modules, which loads bytecode as readily as text: a module is read
  -- with the checked loadfile instead
  package.searchers[3], package.searchers[4] = nil, nil
  package.searchers[2] = function(name)
    local path = kpse.find_file((name:gsub("%.", "/")), "lua") or kpse.find_file(name, "lua")
                 or package.searchpath(name, package.path)
    if not path then return ("\n\tno Lua module '%s' for TeX"):format(name) end
    local chunk, problem = _G.loadfile(path)
    if not chunk then error(problem, 0) end
    return chunk, path
  end
end
io.popen = no_program("io.popen")
for _, name in ipairs({"execute", "exec", "spawn", "kpsepopen"}) do
  os[name] = no_program("os." .. name)
end
os.tmpname, os.tmpdir = nil, nil
-- kpathsea reads its limits (openin_any, TEXINPUTS, ...) from the environment at each look-up:
-- only lualibs' own variables may be set (MTX_PLATFORM, MTX_BITS)
local setenv = os.setenv
os.setenv = function(key, value)
  if type(key) ~= "string" or not key:find("^MTX_[A-Z_]+$") then
    error(("TeX may not set the environment variable %s"):format(tostring(key)), 0)
  end
  return setenv(key, value)
end
os.remove = function(path) return remove(checked(path, true)) end
os.rename = function(from, to) return rename(checked(from, true), checked(to, true)) end
-- Lua bytecode is loaded only as this run dumped it (lualibs loads its formatters so) or from
-- TeX's trees and luaotfload's font cache, never from the build folder: crafted bytecode escapes
-- any check
local dump = string.dump
local dumped = setmetatable({}, {__mode = "k"})
string.dump = function(...)
  local code = dump(...)
  dumped[code] = true
  return code
end
local function cached(path)  -- TeX's trees and font caches, not the build folder
  roots()
  return type(path) == "string" and path:sub(1, 1) == "/" and under(path, readable)
end
_G.loadfile = function(path, mode, ...)
  if path ~= nil then checked(path, false) end
  if not cached(path) then mode = "t" end
  return original_loadfile(path, mode, ...)
end  -- (an env given as nil is still given: `...` passes it only when it was)
_G.dofile = function(path)
  checked(path or "stdin", false)
  local chunk, problem = original_loadfile(path, cached(path) and "bt" or "t")
  if not chunk then error(problem, 0) end
  return chunk()
end
_G.load = function(chunk, name, mode, ...)  -- `...`: an env given as nil is still given
  if not (type(chunk) == "string" and dumped[chunk]) then mode = "t" end
  return original_load(chunk, name, mode, ...)
end
lfs.dir = function(path) return lfs_dir(checked(path, false)) end
lfs.mkdir = function(path)  -- luaotfload makes its cache's path one folder at a time: refused
  if not allowed(path, true) then return nil, "TeX may not write " .. tostring(path) end
  return lfs_mkdir(path)
end
lfs.rmdir = function(path) return lfs_rmdir(checked(path, true)) end
lfs.touch = function(path, ...) return lfs_touch(checked(path, true), ...) end
lfs.attributes = looked_up(lfs_attributes)
lfs.symlinkattributes = lfs_symlinkattributes and looked_up(lfs_symlinkattributes)
lfs.isdir = lfs_isdir and looked_up(lfs_isdir)
lfs.isfile = lfs_isfile and looked_up(lfs_isfile)
lfs.readlink = lfs_readlink and looked_up(lfs_readlink)
lfs.chdir, lfs.link, lfs.lock_dir = nil, nil, nil
kpse.readable_file = looked_up(kpse_readable)
if pdfe then  -- LuaTeX's PDF reader: other PDFs' pages and streams
  local pdfe_open = pdfe.open
  pdfe.open = function(path, ...) return pdfe_open(checked(path, false), ...) end
end
if fontloader then  -- FontForge's reader: any file it is pointed at
  local fl_open, fl_info = fontloader.open, fontloader.info
  fontloader.open = function(path, ...) return fl_open(checked(path, false), ...) end
  fontloader.info = function(path, ...) return fl_info(checked(path, false), ...) end
end
if pdf then  -- a PDF object read from a file: pdf.obj{file = ...}, pdf.immediateobj("file", ...)
  for _, name in ipairs({"obj", "immediateobj"}) do
    local original = pdf[name]
    pdf[name] = function(...)
      local args = {...}
      for i, value in ipairs(args) do
        if type(value) == "table" and value.file ~= nil then checked(value.file, false) end
        if value == "file" or value == "streamfile" then checked(args[i + 1], false) end
      end
      return original(...)
    end
  end
end
mplib, package.loaded.mplib = nil, nil  -- MetaPost reads and writes files by its own rules
package.loadlib = nil
if package.searchers then  -- the C library loaders (3 and 4): Lua files only, found by kpathsea
  package.searchers[4], package.searchers[3] = nil, nil
end
for _, name in ipairs({"getupvalue", "setupvalue", "upvalueid", "upvaluejoin", "getlocal",
                       "setlocal", "getregistry", "setmetatable", "getuservalue",
                       "setuservalue", "sethook"}) do
  debug[name] = nil
end

-- The file look-ups TeX hands to Lua (the find_* callbacks: find_read_file for \input,
-- find_image_file, ...): whatever function a package registers, the path it returns is checked,
-- since TeX opens it without asking kpathsea. Images (\saveimageresource, \includegraphics,
-- img.scan) and the files of PDF objects (\pdfextension obj file {...}) are always looked up
-- here; unregistering a function puts this check back.
local register = callback.register
local guards = {}
local function guarded(name, look_up)
  local writing = name == "find_write_file" or name == "find_output_file"
  return function(...)
    local found = look_up(...)
    if type(found) == "string" then checked(found, writing) end
    return found
  end
end
callback.register = function(name, look_up, ...)
  if type(name) == "string" and name:find("^find_") then
    if type(look_up) == "function" then
      look_up = guarded(name, look_up)
    elseif guards[name] then
      look_up = guards[name]
    end
  end
  return register(name, look_up, ...)
end
for _, name in ipairs({"find_image_file", "find_data_file"}) do
  guards[name] = function(path) return checked(path, false) end
  register(name, guards[name])
end
