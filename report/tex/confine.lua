-- Confine the Lua of a LuaLaTeX run to the build folder (report/tex/latexmk.py loads this file before
-- the document, through latexmk's -usepretex, so no template line runs before it).
--
-- TeX's own \input and \openout are confined by kpathsea (openin_any = openout_any = p, set by
-- latex.py); \directlua reaches files through Lua's io, os and lfs libraries, which kpathsea does
-- not see. Here those functions are replaced by ones that check the path first:
--   read:  the build folder (relative paths without ..), TeX's trees and caches, the fonts;
--   write: the build folder and the font caches (luaotfload writes its font database there);
--   never: running programs, loading C libraries, changing folder, reaching the originals
--          through the debug library.
-- A refused call raises a Lua error naming the path, which LaTeX reports at the template line.

local kpse, lfs, io, os, debug, package = kpse, lfs, io, os, debug, package
local open, lines, input, output = io.open, io.lines, io.input, io.output
local original_loadfile, original_dofile, original_load = loadfile, dofile, load
local remove, rename = os.remove, os.rename
local lfs_dir, lfs_mkdir, lfs_rmdir, lfs_touch = lfs.dir, lfs.mkdir, lfs.rmdir, lfs.touch

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

local caches = kpse_folders({"TEXMFVAR", "TEXMFCACHE", "TEXMFSYSVAR"})
local readable = kpse_folders({"TEXMFROOT", "TEXMFDIST", "TEXMFMAIN", "TEXMFLOCAL", "TEXMFHOME",
                               "TEXMFSYSCONFIG", "TEXMFCONFIG", "TEXMFVAR", "TEXMFCACHE",
                               "TEXMFSYSVAR"})
for _, f in ipairs({"/usr/share/texlive/", "/usr/share/texmf/", "/usr/share/fonts/",
                    "/usr/local/share/fonts/", "/usr/share/fontconfig/", "/etc/fonts/",
                    "/etc/texmf/", "/var/lib/texmf/", "/var/cache/fontconfig/"}) do
  readable[#readable + 1] = f
end
local home = os.getenv("HOME")
if folder(home) then
  readable[#readable + 1] = folder(home) .. ".fonts/"
  readable[#readable + 1] = folder(home) .. ".local/share/fonts/"
  readable[#readable + 1] = folder(home) .. ".cache/fontconfig/"
end

local function under(path, roots)
  for _, root in ipairs(roots) do
    if path:sub(1, #root) == root then return true end
  end
  return false
end

local function inside_build(path)
  -- relative, without a parent step: in the build folder (the current one; lfs.chdir is gone)
  return path:sub(1, 1) ~= "/" and path:sub(1, 1) ~= "~"
    and not ("/" .. path .. "/"):find("/%.%./")
end

local function allowed(path, writing)
  if type(path) ~= "string" then return true end  -- a file handle, or nothing: no path to check
  if path:find("/%.%./") or path:find("/%.%.$") then return false end
  if inside_build(path) then return true end
  return under(path, writing and caches or readable)
end

local function refuse(path, writing)
  error(("TeX may not %s %s: it reads only the build folder, the figures and TeX's own files, "
         .. "and writes only the build folder"):format(writing and "write" or "read", path), 0)
end

local function checked(path, writing)
  if not allowed(path, writing) then refuse(path, writing) end
  return path
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
io.popen = nil
os.execute, os.exec, os.spawn, os.kpsepopen, os.setenv = nil, nil, nil, nil, nil
os.remove = function(path) return remove(checked(path, true)) end
os.rename = function(from, to) return rename(checked(from, true), checked(to, true)) end
_G.loadfile = function(path, ...)
  if path ~= nil then checked(path, false) end
  return original_loadfile(path, ...)
end
_G.dofile = function(path)
  if path ~= nil then checked(path, false) end
  return original_dofile(path)
end
_G.load = function(chunk, name, mode, env)  -- no binary chunks: crafted bytecode escapes any check
  return original_load(chunk, name, "t", env)
end
lfs.dir = function(path) return lfs_dir(checked(path, false)) end
lfs.mkdir = function(path) return lfs_mkdir(checked(path, true)) end
lfs.rmdir = function(path) return lfs_rmdir(checked(path, true)) end
lfs.touch = function(path, ...) return lfs_touch(checked(path, true), ...) end
lfs.chdir, lfs.link, lfs.lock_dir = nil, nil, nil
package.loadlib = nil
if package.searchers then  -- the C library loaders (3 and 4): Lua files only, found by kpathsea
  package.searchers[4], package.searchers[3] = nil, nil
end
for _, name in ipairs({"getupvalue", "setupvalue", "upvalueid", "upvaluejoin", "getlocal",
                       "setlocal", "getregistry", "setmetatable", "getuservalue",
                       "setuservalue", "sethook"}) do
  debug[name] = nil
end
