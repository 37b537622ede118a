"""The page shown where the catalog grid goes while there is no catalog: first run, or a catalog that failed
to open. It shows the demo being built (with progress) or offers to open, create or build one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from stylerec_desktop.gui.jobs import JobInfo, JobState


class StartPage(QWidget):
    """Welcome text, an optional progress bar, and three buttons."""

    openRequested = Signal()
    newRequested = Signal()
    demoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("StyleRec Desktop")
        self.heading.setStyleSheet("font-size: 22px; font-weight: 600;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setProperty("role", "muted")
        self.message.setMaximumWidth(520)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(420)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.open_button = QPushButton("Open catalog…")
        self.new_button = QPushButton("New catalog…")
        self.demo_button = QPushButton("Build the demo catalog")
        self.open_button.clicked.connect(self.openRequested)
        self.new_button.clicked.connect(self.newRequested)
        self.demo_button.clicked.connect(self.demoRequested)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (self.open_button, self.new_button, self.demo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column = QVBoxLayout()
        column.setSpacing(12)
        column.addWidget(self.heading)
        column.addWidget(self.message)
        column.addWidget(self.progress)
        column.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(column)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)
        self.show_choices("Open a catalog, create an empty one, or build the demo catalog to look around.")

    def show_choices(self, text: str) -> None:
        self.message.setText(text)
        self.progress.hide()
        for button in (self.open_button, self.new_button, self.demo_button):
            button.setVisible(True)

    def show_job(self, info: JobInfo) -> None:
        """Follow a job (the first-run demo build) with the progress bar."""
        if info.state is JobState.FAILED:
            self.show_choices(f"Building the catalog failed: {info.error}")
            return
        self.message.setText(f"{info.title}…" + (f"\n{info.message}" if info.message else ""))
        self.progress.show()
        if info.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * (info.fraction or 0.0)))
        else:
            self.progress.setRange(0, 0)
        for button in (self.open_button, self.new_button, self.demo_button):
            button.setVisible(False)


if __name__ == "__main__":
    from PySide6.QtWidgets import QApplication

    from stylerec_desktop.gui import theme

    app = QApplication([])
    theme.apply(app)
    page = StartPage()
    page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    page.resize(800, 500)
    page.show()
    raise SystemExit(app.exec())
