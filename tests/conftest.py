"""Shared test data."""

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
