"""Copy the served browser assets from node_modules into static/vendor (git-ignored)."""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

COPIES = [
    # (source in node_modules, destination under static/vendor)
    ("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"),
    ("krds-uiux/resources/css/token", "krds/css/token"),
    ("krds-uiux/resources/css/common", "krds/css/common"),
    ("krds-uiux/resources/css/component", "krds/css/component"),
    ("krds-uiux/resources/img/component", "krds/img/component"),
    # component.css asks for ../../img/img/component/…: serve the icons there too.
    ("krds-uiux/resources/img/component", "krds/img/img/component"),
    ("pretendard-gov/dist/web/static/woff2/PretendardGOV-Regular.woff2", "pretendard/PretendardGOV-Regular.woff2"),
    ("pretendard-gov/dist/web/static/woff2/PretendardGOV-Bold.woff2", "pretendard/PretendardGOV-Bold.woff2"),
    # PDFs embed the OTF (a whole font: every Hangul syllable; WOFF2 is slow in WeasyPrint).
    ("pretendard-gov/dist/public/static/PretendardGOV-Regular.otf", "pretendard/PretendardGOV-Regular.otf"),
    ("pretendard-gov/dist/public/static/PretendardGOV-Bold.otf", "pretendard/PretendardGOV-Bold.otf"),
    ("axe-core/axe.min.js", "axe/axe.min.js"),
]


def copy_if_changed(source, target):
    """Copy unless an identical copy is there: a test run already serving it may be reading it."""
    old, new = Path(target), Path(source).stat()
    if old.exists() and old.stat().st_size == new.st_size and int(old.stat().st_mtime) == int(new.st_mtime):
        return target
    return shutil.copy2(source, target)


def main() -> int:
    missing = [src for src, _ in COPIES if not (NODE / src).exists()]
    if missing:
        print("node_modules is missing files; run `npm ci` first:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    for src, dest in COPIES:
        source, target = NODE / src, VENDOR / dest
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map"),
                            copy_function=copy_if_changed)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_if_changed(source, target)
    print(f"assets copied to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
