#!/usr/bin/env python3
"""Walk every wizard through its pages on a fresh demo workspace against the built-in
sandboxes, as a marketer would, and take a screenshot of each page; the README gets one per
wizard (docs/screenshots/wizard-*.png).

QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \
    .venv/bin/python scripts/wizard_screenshots.py [--out DIR] [--every-page DIR]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from screenshot_run import arguments, run_in_window_loop

os.environ.setdefault("QT_API", "pyside6")
os.environ["PROMODESK_KEYRING"] = "memory"

README_SHOTS = {
    ("promotion", "run"): "wizard-promotion.png",
    ("code_files", "check"): "wizard-code-files.png",
    ("altcraft", "run"): "wizard-altcraft.png",
    ("impact", "review"): "wizard-impact.png",
    ("allocations", "save"): "wizard-allocations.png",
}


class Camera:
    def __init__(self, out: Path, every_page: Path | None) -> None:
        self.out = out
        self.every_page = every_page

    async def shoot(self, wizard: Any, name: str, page: str) -> None:
        from promodesk.qt import QApplication

        await asyncio.sleep(0.3)
        QApplication.processEvents()
        image = wizard.grab()
        if self.every_page is not None:
            target = self.every_page / f"{name}-{page}.png"
            image.save(str(target))
            print(target)
        readme = README_SHOTS.get((name, page))
        if readme is not None:
            image.save(str(self.out / readme))
            print(self.out / readme)


async def shown(window, open_it):
    """The wizard `open_it()` opens, once it shows (its modules load off the GUI thread)."""
    future = asyncio.get_running_loop().create_future()

    def opened(wizard) -> None:
        if not future.done():
            future.set_result(wizard)

    window.wizards.opened.connect(opened)
    try:
        open_it()
        return await future
    finally:
        window.wizards.opened.disconnect(opened)


async def until(check: Callable[[], Any]) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the wizard did not get there")
        await asyncio.sleep(0.05)


async def forward(wizard: Any) -> None:
    """Next (or the commit button), then wait for the page and its job."""
    from promodesk.qt import QWizard

    before = wizard.currentId()
    page = wizard.currentPage()
    which = (
        QWizard.WizardButton.CommitButton
        if page.isCommitPage()
        else QWizard.WizardButton.NextButton
    )
    await until(lambda: wizard.button(which).isEnabled())
    wizard.button(which).click()
    await until(lambda: wizard.currentId() != before)
    await until(lambda: not wizard.busy)


async def promotion(window: Any, camera: Camera) -> None:
    from promodesk.domain.vendors import Vendor

    wizard = await shown(window, lambda: window.wizards.open_promotion())
    await until(lambda: wizard.promotion_page.accounts.ready)
    page = wizard.promotion_page
    page.name.setText("Winter sale 2026")
    page.code.setText("WINTER26")
    page.description.setText("10% off for the winter newsletter")
    await camera.shoot(wizard, "promotion", "promotion")
    await forward(wizard)
    wizard.code_page.unique_kind.setChecked(True)
    wizard.code_page.varying.setChecked(True)
    wizard.code_page.fallback.setText("WINTER-THANKS")
    await camera.shoot(wizard, "promotion", "code")
    await forward(wizard)
    await camera.shoot(wizard, "promotion", "review")
    fake = window.accounts.connections.fake(Vendor.OPTIMOVE)
    fake.faults.configure({"script": [None, None, *["500"] * 5]})
    await forward(wizard)
    fake.faults.configure({})
    await camera.shoot(wizard, "promotion", "run")
    wizard.run_page.retry_button.click()
    await until(lambda: not wizard.busy and wizard.plan.finished)
    await camera.shoot(wizard, "promotion", "run-retried")
    wizard.accept()


async def code_files(window: Any, camera: Camera, folder: Path) -> None:
    bad = folder / "winter_codes.csv"
    bad.write_bytes(
        (
            "WIN-7K2M\r\nWIN-8P3Q\r\n  WIN-9R4S \r\nWIN-8P3Q\r\n\r\nSPRW-79X92KUA\r\n"
            'WIN-ÉTÉ1\r\n1.23457E+11\r\n"WIN-5T6U"\r\nWIN-0O1I\r\n'
        ).encode("cp1252")
    )
    wizard = await shown(window, lambda: window.wizards.open_code_files())
    wizard.source_page.files.add([bad])
    await camera.shoot(wizard, "code_files", "source")
    await forward(wizard)
    await camera.shoot(wizard, "code_files", "check")
    await forward(wizard)  # the fix page
    await camera.shoot(wizard, "code_files", "fix")
    wizard.fix_page.validatePage()
    await until(lambda: wizard.currentId() != 2 and not wizard.busy)
    await until(lambda: wizard.upload_page.accounts.ready)
    wizard.upload_page.promocode.setEditText("pc-spring-welcome")
    await camera.shoot(wizard, "code_files", "upload")
    await forward(wizard)
    await camera.shoot(wizard, "code_files", "uploaded")
    wizard.accept()
    generated = await shown(window, lambda: window.wizards.open_code_files())
    generated.source_page.generate.setChecked(True)
    generated.source_page.count.setValue(5000)
    generated.source_page.prefix.setText("WIN-")
    generated.source_page.target.set_path(folder / "winter_new.csv")
    await camera.shoot(generated, "code_files", "generate")
    generated.reject()


async def altcraft(window: Any, camera: Camera) -> None:
    wizard = await shown(window, lambda: window.wizards.open_altcraft())
    await until(lambda: wizard.program_page.accounts.ready)
    await camera.shoot(wizard, "altcraft", "program")
    await forward(wizard)
    wizard.codes_page.text.setPlainText(
        "LOY-WINTER-01\nLOY-WINTER-02\nLOY5-0003\n LOY-WINTER-03\nLOY5-ASFY8M\nLOY-WINTER-01\n"
    )
    await camera.shoot(wizard, "altcraft", "codes")
    await forward(wizard)
    await camera.shoot(wizard, "altcraft", "review")
    await forward(wizard)
    await camera.shoot(wizard, "altcraft", "run")
    wizard.accept()


async def impact(window: Any, camera: Camera, folder: Path) -> None:
    csv_file = folder / "partner_codes.csv"
    csv_file.write_text(
        "Code;Partner ID;Program ID;Credit policy;Type;Start;End\n"
        "WINTER-ANNA;2552842;1000;If last click;Exact match;2026-12-01;2026-12-31\n"
        "WINTER-BEN;2552843;1000;If involved;Exact match;2026-12-01 09:30;\n"
        "winter-[a-z]+;2552842;1000;Always;Pattern;;2027-01-15\n"
        "WINTER-[;2552842;1000;;Pattern;;\n"
        "WINTER-CARL;carl;1000;;;;\n"
    )
    wizard = await shown(window, lambda: window.wizards.open_impact())
    await until(lambda: wizard.start_page.accounts.ready)
    await camera.shoot(wizard, "impact", "start")
    await forward(wizard)
    page = wizard.one_page
    page.partner.setText("2552842")
    page.program.setEditText("1000")
    page.code.setText("WINTER-DANA")
    page.credit.setCurrentIndex(2)
    page.never_ends.setChecked(False)
    await camera.shoot(wizard, "impact", "one")
    wizard.back()
    wizard.start_page.many.setChecked(True)
    await forward(wizard)
    wizard.file_page.path.set_path(csv_file)
    await camera.shoot(wizard, "impact", "file")
    await forward(wizard)
    await camera.shoot(wizard, "impact", "review")
    await forward(wizard)
    await camera.shoot(wizard, "impact", "run")
    wizard.accept()


async def allocations(window: Any, camera: Camera, folder: Path) -> None:
    wizard = await shown(window, lambda: window.wizards.open_export())
    await until(lambda: wizard.scope_page.promocode.count() > 0)
    wizard.scope_page.promocode.setEditText("pc-summer-sale")
    await camera.shoot(wizard, "allocations", "scope")
    await forward(wizard)
    wizard.save_page.target.set_path(folder / "pc-summer-sale-allocations.csv")
    await camera.shoot(wizard, "allocations", "save")
    await forward(wizard)
    await camera.shoot(wizard, "allocations", "run")
    wizard.accept()


async def resume_list(window: Any, camera: Camera) -> None:
    from promodesk.domain.vendors import Vendor

    wizard = await shown(window, lambda: window.wizards.open_promotion())
    await until(lambda: wizard.promotion_page.accounts.ready)
    wizard.promotion_page.name.setText("Spring preview")
    wizard.promotion_page.code.setText("SPRING27")
    await forward(wizard)
    wizard.code_page.global_code.setText("SPRING-10")
    await forward(wizard)
    fake = window.accounts.connections.fake(Vendor.OPTIMOVE)
    fake.faults.configure({"script": [None, None, *["500"] * 5]})
    await forward(wizard)
    fake.faults.configure({})
    wizard.accept()
    dialog = window.wizards.open_resume_list()
    await until(lambda: dialog.model.rowCount() > 0)
    await camera.shoot(dialog, "resume", "list")
    dialog.reject()


async def walk(out: Path, every_page: Path | None) -> None:
    from promodesk.qt import QSettings
    from promodesk.services.demo import ensure_demo_workspace
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    scratch = Path(tempfile.mkdtemp())
    settings = QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(TaskRunner(), settings, accounts_path=scratch / "accounts.json")
    window.show()
    path = await ensure_demo_workspace(scratch / "Demo.promodesk")
    await window.open_workspace(path).as_future()
    window.message_bar.dismiss()
    camera = Camera(out, every_page)
    folder = scratch / "files"
    folder.mkdir()
    await promotion(window, camera)
    await code_files(window, camera, folder)
    await altcraft(window, camera)
    await impact(window, camera, folder)
    await allocations(window, camera, folder)
    await resume_list(window, camera)
    window.close()
    await window.shutdown()


def main() -> None:
    args = arguments(lambda parser: parser.add_argument("--every-page", type=Path, default=None))
    if args.every_page is not None:
        args.every_page.mkdir(parents=True, exist_ok=True)
    run_in_window_loop(lambda: walk(args.out, args.every_page))


if __name__ == "__main__":
    main()
