"""New workspaces, the user's own workspace beside the Demo, and workspace files gone missing.

The user's own workspace is `services.paths.default_workspace()`: the same file the command
line imports into when no --workspace is given, so the window and `promodesk import` share it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from promodesk.domain.jobs import ProgressFn
from promodesk.qt import QMessageBox, QObject, Qt
from promodesk.store import WORKSPACE_SUFFIX

if TYPE_CHECKING:
    from promodesk.services.workspace_session import WorkspaceSession
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job


class Workspaces(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.question: QMessageBox | None = None  # the missing-file question on screen

    # -- new -------------------------------------------------------------------------------------

    def choose_new(self) -> None:
        """File ▸ New workspace…: where to keep it (its name is its label)."""
        from promodesk.services.paths import workspaces_dir

        folder = workspaces_dir()
        folder.mkdir(parents=True, exist_ok=True)
        suggested = _unused(folder / f"New workspace{WORKSPACE_SUFFIX}")
        dialog = self.window.file_dialog(
            "newWorkspaceDialog",
            "New workspace",
            suggested,
            f"promodesk workspaces (*{WORKSPACE_SUFFIX})",
        )
        dialog.setAcceptMode(dialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(WORKSPACE_SUFFIX.lstrip("."))
        # Replacing a workspace would delete its data: an existing name is refused below
        # with a message, never overwritten, so the dialog need not ask.
        dialog.setOption(dialog.Option.DontConfirmOverwrite, True)
        dialog.fileSelected.connect(lambda name: self.create(Path(name)))
        dialog.open()

    def create(self, path: Path) -> Job:
        """A new, empty workspace at `path`, then open it."""
        from promodesk.services.workspace_session import WorkspaceSession

        path = Path(path)

        async def work(_progress: ProgressFn) -> WorkspaceSession:
            if path.exists():
                raise FileExistsError(
                    f"{path.name} already exists: pick another name, or open it with "
                    "File ▸ Open workspace…"
                )
            return await WorkspaceSession.create(path, label=path.stem)

        return self.window.track_opening(
            self.window.runner.start(
                f"Creating {path.name}", work, cancellable=False, on_done=self.window.opened
            )
        )

    def open_user_workspace(self) -> Job:
        """The user's own workspace (made on first use), the one the CLI also imports into."""
        from promodesk.services.paths import default_workspace

        path = default_workspace()
        if path.exists():
            job = self.window.open_workspace(path)
            assert job is not None
            return job
        return self.create(path)

    # -- missing files ---------------------------------------------------------------------------

    def missing(self, path: Path) -> QMessageBox:
        """A workspace file that is not where it was: say so and offer what can be done."""
        window = self.window
        box = QMessageBox(window)
        box.setObjectName("missingWorkspace")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Workspace not found")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"The workspace “{path.stem}” is not where it was.")
        box.setInformativeText(
            f"promodesk looked for {path}. It may have been moved, renamed or deleted, or be "
            "on a drive that is not connected now."
        )
        find = box.addButton("Find it…", QMessageBox.ButtonRole.AcceptRole)
        find.setObjectName("findWorkspace")
        new = box.addButton("New workspace…", QMessageBox.ButtonRole.ActionRole)
        new.setObjectName("newWorkspace")
        demo = box.addButton("Open the Demo", QMessageBox.ButtonRole.ActionRole)
        demo.setObjectName("openDemo")
        keep = None
        if window.session is not None:
            keep = box.addButton(
                f"Stay in {window.session.info.label}", QMessageBox.ButtonRole.RejectRole
            )
            box.setEscapeButton(keep)
        else:
            box.setEscapeButton(demo)  # never leave the window without a workspace
        box.setDefaultButton(find)

        def answered(_result: int) -> None:
            self.question = None
            clicked = box.clickedButton()
            if clicked is find:
                window.choose_workspace()
            elif clicked is new:
                self.choose_new()
            elif clicked is demo or (keep is None and window.session is None):
                window.open_demo()
            box.deleteLater()

        box.finished.connect(answered)
        self.question = box
        box.open()
        return box


def _unused(path: Path) -> Path:
    number = 1
    candidate = path
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem} {number}{path.suffix}")
    return candidate
