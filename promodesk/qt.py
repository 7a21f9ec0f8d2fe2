"""The one place the Qt shell imports PySide6 from.

Everything under promodesk/ui/ takes its Qt names from here (an import-linter contract holds
it to that), so a binding change or a Qt quirk is dealt with once.

Names resolve on first use: PySide6 builds each type the first time it is touched, and
touching all of them up front cost ~55 ms of start-up for types most sessions never show.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# qasync picks its binding from QT_API; it must be set before qasync is first imported.
os.environ.setdefault("QT_API", "pyside6")

_MODULE_OF: dict[str, str] = {
    "QAbstractButton": "QtWidgets",
    "QAbstractItemDelegate": "QtWidgets",
    "QAbstractItemModel": "QtCore",
    "QAbstractItemView": "QtWidgets",
    "QAbstractListModel": "QtCore",
    "QAbstractTableModel": "QtCore",
    "QAction": "QtGui",
    "QActionGroup": "QtGui",
    "QApplication": "QtWidgets",
    "QBarSeries": "QtCharts",
    "QBarSet": "QtCharts",
    "QBrush": "QtGui",
    "QButtonGroup": "QtWidgets",
    "QByteArray": "QtCore",
    "QCategoryAxis": "QtCharts",
    "QChart": "QtCharts",
    "QChartView": "QtCharts",
    "QCheckBox": "QtWidgets",
    "QCloseEvent": "QtGui",
    "QColor": "QtGui",
    "QComboBox": "QtWidgets",
    "QCoreApplication": "QtCore",
    "QDate": "QtCore",
    "QDateEdit": "QtWidgets",
    "QDateTime": "QtCore",
    "QDateTimeEdit": "QtWidgets",
    "QDesktopServices": "QtGui",
    "QDialog": "QtWidgets",
    "QDialogButtonBox": "QtWidgets",
    "QDoubleValidator": "QtGui",
    "QDragEnterEvent": "QtGui",
    "QDropEvent": "QtGui",
    "QElapsedTimer": "QtCore",
    "QEvent": "QtCore",
    "QFileDialog": "QtWidgets",
    "QFont": "QtGui",
    "QFontDatabase": "QtGui",
    "QFontMetrics": "QtGui",
    "QFormLayout": "QtWidgets",
    "QFrame": "QtWidgets",
    "QGraphicsSimpleTextItem": "QtWidgets",
    "QGridLayout": "QtWidgets",
    "QGroupBox": "QtWidgets",
    "QGuiApplication": "QtGui",
    "QHBoxLayout": "QtWidgets",
    "QHeaderView": "QtWidgets",
    "QHelpEvent": "QtGui",
    "QIcon": "QtGui",
    "QIntValidator": "QtGui",
    "QItemSelection": "QtCore",
    "QItemSelectionModel": "QtCore",
    "QKeySequence": "QtGui",
    "QLabel": "QtWidgets",
    "QLegend": "QtCharts",
    "QLineEdit": "QtWidgets",
    "QLineSeries": "QtCharts",
    "QListWidget": "QtWidgets",
    "QListWidgetItem": "QtWidgets",
    "QMainWindow": "QtWidgets",
    "QMargins": "QtCore",
    "QMenu": "QtWidgets",
    "QMessageBox": "QtWidgets",
    "QMimeData": "QtCore",
    "QModelIndex": "QtCore",
    "QObject": "QtCore",
    "QPainter": "QtGui",
    "QPalette": "QtGui",
    "QPen": "QtGui",
    "QPersistentModelIndex": "QtCore",
    "QPixmap": "QtGui",
    "QPlainTextEdit": "QtWidgets",
    "QPoint": "QtCore",
    "QPointF": "QtCore",
    "QProgressBar": "QtWidgets",
    "QPushButton": "QtWidgets",
    "QRadioButton": "QtWidgets",
    "QRect": "QtCore",
    "QRegularExpression": "QtCore",
    "QRegularExpressionValidator": "QtGui",
    "QScreen": "QtGui",
    "QScrollArea": "QtWidgets",
    "QSettings": "QtCore",
    "QShortcut": "QtGui",
    "QSize": "QtCore",
    "QSizePolicy": "QtWidgets",
    "QSpinBox": "QtWidgets",
    "QSplitter": "QtWidgets",
    "QStackedWidget": "QtWidgets",
    "QStandardPaths": "QtCore",
    "QStatusBar": "QtWidgets",
    "QStyle": "QtWidgets",
    "QStyleOptionViewItem": "QtWidgets",
    "QStyledItemDelegate": "QtWidgets",
    "QTabWidget": "QtWidgets",
    "QTableView": "QtWidgets",
    "QTableWidget": "QtWidgets",
    "QTableWidgetItem": "QtWidgets",
    "QTextBrowser": "QtWidgets",
    "QTextOption": "QtGui",
    "QTime": "QtCore",
    "QTimeZone": "QtCore",
    "QTimer": "QtCore",
    "QToolBar": "QtWidgets",
    "QToolButton": "QtWidgets",
    "QToolTip": "QtWidgets",
    "QUrl": "QtCore",
    "QVBoxLayout": "QtWidgets",
    "QWidget": "QtWidgets",
    "QWidgetAction": "QtWidgets",
    "QWizard": "QtWidgets",
    "QWizardPage": "QtWidgets",
    "Qt": "QtCore",
    "QtMsgType": "QtCore",
    "Signal": "QtCore",
    "Slot": "QtCore",
    "qInstallMessageHandler": "QtCore",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"promodesk.qt has no Qt name {name!r} (add it to _MODULE_OF)")
    value = getattr(importlib.import_module(f"PySide6.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
