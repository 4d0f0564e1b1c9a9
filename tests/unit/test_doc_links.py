"""README.md and docs/*.md: every relative link reaches a file, every #anchor a heading (GitHub's
slugs), and the README's top (before "## Use it in ComfyUI") links each docs page, so each is one
click from the first screen."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"")


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set:
    body = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", body, re.M)}


def links(path: Path):
    body = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    for m in LINK.finditer(body):
        target = m.group(1) or m.group(2)
        if not re.match(r"[a-z]+:", target):
            yield target


def test_relative_links_and_anchors_resolve():
    broken = []
    for doc in DOCS:
        for target in links(doc):
            file, _, anchor = target.partition("#")
            dest = (doc.parent / file).resolve() if file else doc
            if not dest.exists():
                broken.append(f"{doc.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{doc.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_docs_page_is_one_click_from_the_top():
    readme = (ROOT / "README.md").read_text()
    top = readme[:readme.index("## Use it in ComfyUI")]
    assert "docs/images/main_job_side_by_side.gif" in top
    linked = {t.split("#")[0] for t in re.findall(r"\]\((docs/[^)]+)\)", top)}
    missing = [f"docs/{page.name}" for page in sorted((ROOT / "docs").glob("*.md"))
               if f"docs/{page.name}" not in linked]
    assert not missing, f"not linked from the README's top: {missing}"
