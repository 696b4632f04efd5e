"""Run reports: an HTML page with PNG figures of what a run printed and measured.

>>> from ptm_fast.report import RunRecord, write_report
>>> record = RunRecord("my run")
>>> section = record.section("fine-tuning")
>>> record.figure("curves", "loss", "training loss", series={"train": [[1, 0.9], [2, 0.7]]})
>>> write_report(record, "report/")       # doctest: +SKIP
PosixPath('report/index.html')

Drawing needs matplotlib, the ``report`` extra (``pip install 'ptm-fast[report]'``);
recording does not.
"""

from ptm_fast.report.page import render, reporting, write_report
from ptm_fast.report.record import FIGURE_KINDS, Figure, RunRecord, Section

__all__ = ["FIGURE_KINDS", "Figure", "RunRecord", "Section", "render", "reporting", "write_report"]
