"""Shared test data and helpers."""
import shutil
import subprocess

from pipeline import paths

# One student's name per script the report typesets (pipeline/config.py NAME_SCRIPTS): the config
# tests accept each, the report tests read each back from the PDF.
NAMES_BY_SCRIPT = {
    "Latin": "Nguyễn Thị Phương Łukasz Żółć",
    "Hebrew": "שי קיקואשווילי",
    "Arabic": "محمد عبد الله",
    "Cyrillic": "Анна Каренина",
    "Greek": "Ἀλέξανδρος Παπαδόπουλος",
    "Chinese": "王小明",
}


def repository_copy(folder):
    """The repository's files (tracked or not ignored) copied with their times, so that Make sees
    the same setup as here, and .venv/ and data/ linked: nothing is installed or downloaded again,
    and the results and report of the copy never touch this repository's."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if name.split("/")[0] in (".venv", "data") or not (paths.ROOT / name).is_file():
            continue
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / name, folder / name)
    for linked in (".venv", "data"):
        (folder / linked).symlink_to(paths.ROOT / linked)
    return folder
